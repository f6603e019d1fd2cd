package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

// A tier's upTo is "Integer, or the string inf": its integer variant reads
// a whole number in any JSON spelling, as every integer field of a response
// does; a fraction or a number beyond int stays encoding/json's error,
// naming the number as sent; "inf" is the string variant.
func TestUnionIntegerVariantTakesIntegralSpellings(t *testing.T) {
	upTo := func(raw string) (api.PlanCharge_Tiers_UpTo, bool) {
		var tier api.PlanCharge_Tiers
		if err := json.Unmarshal([]byte(`{"flatAmount":0,"upTo":`+raw+`}`), &tier); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		u, err := tier.UpTo.Get()
		return u, err == nil
	}
	for _, raw := range []string{"1000", "1000.0", "1000.00", "1e3", "1E+3", "1.0e3", "10000e-1", " 1e3 "} {
		u, ok := upTo(raw)
		if n, err := u.AsPlanChargeTiersUpTo0(); !ok || err != nil || n != 1000 {
			t.Errorf("upTo %s: %d, %v", raw, n, err)
		}
	}
	if u, _ := upTo("-0.0"); must(u.AsPlanChargeTiersUpTo0()) != 0 {
		t.Error("-0.0")
	}
	for _, raw := range []string{"1000.5", "1e-3", "1e30", "1e99999999", "9223372036854775808.0", `"inf"`} {
		u, _ := upTo(raw)
		n, err := u.AsPlanChargeTiersUpTo0()
		if err == nil || !strings.Contains(err.Error(), strings.Trim(raw, `"`)) && raw != `"inf"` {
			t.Errorf("upTo %s: %d, %v, want encoding/json's error", raw, n, err)
		}
	}
	u, _ := upTo(`"inf"`)
	if s, err := u.AsPlanChargeTiersUpTo1(); err != nil || s != "inf" {
		t.Errorf(`"inf": %q, %v`, s, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
