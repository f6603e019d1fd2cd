package kelviq

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorForms(t *testing.T) {
	const key = "sk_test_a/b1234567"
	r := newRedactor(key, "")
	for in, want := range map[string]string{
		"x " + key + " y":                "x [redacted] y",
		`"\u0073k_test_a\/b1234567"`:     `"[redacted]"`,
		`"\u0073\u006B_test_a/b1234567"`: `"[redacted]"`,
		"ends in sk_test_a":              "ends in [redacted]", // a piece of 9 bytes left by a cut
		"ends in sk_test":                "ends in sk_test",    // 7 bytes: too short to tell
		`ends in \u0073k_test_a\u00`:     "ends in [redacted]", // cut inside an escape
		"sk_test_a/b123456 and more":     "sk_test_a/b123456 and more",
		"nothing here":                   "nothing here",
		key + key:                        "[redacted][redacted]",
		`\u0073k_test_a\u002fb1234567`:   "[redacted]",
		`\u0073k_test_a\u002Fb1234567`:   "[redacted]",
		`\u0074k_test_a/b1234567`:        `\u0074k_test_a/b1234567`,
		`\x0073k_test_a/b1234567`:        `\x0073k_test_a/b1234567`,
		// A server's own cut, marked with an ellipsis.
		"bad key sk_test_a/b1… (truncated)": "bad key [redacted]… (truncated)",
		"bad key sk_test_a... (truncated)":  "bad key [redacted]... (truncated)",
		`"sk_test_a\u2026"`:                 `"[redacted]\u2026"`,
		`"sk_test_a/\u2026"`:                `"[redacted]\u2026"`,
		"sk_test... (7 bytes)":              "sk_test... (7 bytes)",
		"sk_test_a.. (two dots)":            "sk_test_a.. (two dots)",
		// Percent-encoded, as in a URL the server built.
		"?t=sk_test_a%2Fb1234567&x":  "?t=[redacted]&x",
		"%73k%5Ftest%5fa%2fb1234567": "[redacted]",
		"ends in sk_test_a%2":        "ends in [redacted]",
		"sk_test_a%2Xb1234567":       "sk_test_a%2Xb1234567",
		"sk_test_a%2Eb1234567":       "sk_test_a%2Eb1234567",
	} {
		if got := r.string(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
		if r.found(in) != (in != want) {
			t.Errorf("%q: found %v", in, r.found(in))
		}
	}
	for max := 4; max < 40; max++ {
		got := r.text("0123456789 "+key+" def", max)
		if len(got) > max || (len(got) > 11 && got[11] == 's') {
			t.Errorf("text capped at %d: %q", max, got)
		}
	}
	var none *redactor
	if none.string(key) != key || none.found(key) || newRedactor("") != nil {
		t.Error("a nil redactor redacts")
	}
	if n := testing.AllocsPerRun(100, func() { r.found("application/json; charset=utf-8") }); n != 0 {
		t.Errorf("found allocates %v times", n)
	}
}

// Whatever the text, the key is in neither the redacted text nor what a
// JSON reader makes of it (escapes decoded).
func FuzzRedactor(f *testing.F) {
	const key = "sk_test_fuzzsecret01"
	r := newRedactor(key)
	for _, s := range []string{key, "%73k%5Ftest" + key[7:], `\u0073` + key[1:], "x" + key[:9], `\u0073\u006B_test_fuzzsecret01`, `\\u0073k_test_fuzzsecret01`, "sk_test_fuzzsecret0\\u0031"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := r.string(s)
		if strings.Contains(out, key) {
			t.Fatalf("%q: the key survived in %q", s, out)
		}
		var decoded string
		if json.Unmarshal([]byte(`"`+out+`"`), &decoded) == nil && strings.Contains(decoded, key) {
			t.Fatalf("%q: the key survived JSON-escaped in %q", s, out)
		}
		if u, err := url.QueryUnescape(out); err == nil && strings.Contains(u, key) {
			t.Fatalf("%q: the key survived percent-encoded in %q", s, out)
		}
		if strings.Contains(out, key[:minFragment]+"…") || strings.Contains(out, key[:minFragment]+"...") {
			t.Fatalf("%q: a piece of the key before an ellipsis in %q", s, out)
		}
		if strings.HasSuffix(out, key[:minFragment]) {
			t.Fatalf("%q: a piece of the key ends %q", s, out)
		}
	})
}
