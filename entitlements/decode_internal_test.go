package entitlements

import (
	"strings"
	"testing"
)

// integral reads every JSON spelling of a whole number in the int64 range,
// and refuses fractions, values out of range and non-numbers with an error
// that says which.
func TestIntegral(t *testing.T) {
	for lit, want := range map[string]int64{
		"10": 10, "10.0": 10, "10.00": 10, "1e1": 10, "1E+1": 10, "1e+01": 10, "100e-1": 10, "0.1e2": 10,
		"-0": 0, "0": 0, "0.0": 0, "-0.0e-5": 0, "0e999999999999": 0, "-7": -7, "-7.0": -7, "1.5e1": 15,
		"9223372036854775807": 9223372036854775807, "-9223372036854775808": -9223372036854775808,
		"9.223372036854775807e18": 9223372036854775807, "00012": 12,
		"1" + strings.Repeat("0", 100000) + "e-99990": 10_000_000_000,
	} {
		got, err := integral([]byte(lit))
		if err != nil || got != want {
			t.Errorf("integral(%s) = %d, %v; want %d", lit, got, err, want)
		}
	}
	for lit, why := range map[string]string{
		"10.5": "not a whole number", "15e-1": "not a whole number", "1e-999999999999": "not a whole number",
		"0.1": "not a whole number", "9223372036854775808": "out of range", "-9223372036854775809": "out of range",
		"1e19": "out of range", "1e999999999": "out of range", "1e999999999999999999999": "out of range",
		`"10"`: "not a number", "true": "not a number", "{}": "not a number", "[1]": "not a number", "1e": "not a number",
		"1" + strings.Repeat("0", 100000) + "e-99980": "out of range",
	} {
		_, err := integral([]byte(lit))
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("integral(%.30s) error = %v, want %q", lit, err, why)
		}
		if err != nil && len(err.Error()) > 80 {
			t.Errorf("integral's error is %d bytes long: the literal is not cut", len(err.Error()))
		}
	}
}
