package kelviq

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/nullable"
)

// fuzzTarget has every shape the walk follows: integer kinds of each
// size, pointers, slices, maps, Nullable, a nested struct, a type with
// additional properties (its own UnmarshalJSON), an interface and a union
// (both left as they are).
type fuzzTarget struct {
	I8   int8                           `json:"i8"`
	U16  *uint16                        `json:"u16,omitempty"`
	I64s []*int64                       `json:"i64s"`
	M    map[string]int                 `json:"m"`
	N    nullable.Nullable[int32]       `json:"n,omitzero"`
	Sub  *fuzzTarget                    `json:"sub,omitempty"`
	Ent  *api.CheckEntitlementsResponse `json:"ent,omitempty"`
	Tier *api.PlanCharge_Tiers          `json:"tier,omitempty"`
	Any  any                            `json:"any"`
	F    float64                        `json:"f"`
}

// FuzzRespellIntegers: whatever the body, respellIntegers returns (no
// panic); on valid JSON its result is valid JSON of the same values, with
// every number of an integer field a plain integer, and it refuses only a
// body that encoding/json refuses too.
func FuzzRespellIntegers(f *testing.F) {
	for _, s := range []string{
		`{"i8":1e1,"u16":2.0,"i64s":[1E+1,null,-0,100e-1],"m":{"a":5.00},"n":7e0,"sub":{"i8":-1.0e0}}`,
		`{"ent":{"customerId":"r_C1","entitlements":[{"featureId":"seats","featureType":"METER","hasAccess":true,"usageLimit":10.0,"currentUsage":0}]}}`,
		`{"i8":10.5}`, `{"i8":1e30}`, `{"u16":-1.0}`, `{"I8":2.0}`, `{"any":1.0,"f":2.0}`, `{"n":null}`,
		`{"tier":{"upTo":1000.0,"flatAmount":1.0}}`, `[1.0]`, `1.0`, `{"i8":`, `{"i8":1.0,}`, `"\u00e9"`, `{"a\"b":1.0}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		f.Add([]byte(s))
	}
	typ := reflect.TypeFor[fuzzTarget]()
	f.Fuzz(func(t *testing.T, body []byte) {
		out, n, err := respellIntegers(body, typ, canonicalInteger)
		if !json.Valid(body) {
			return
		}
		var into fuzzTarget
		jsonErr := json.Unmarshal(body, &into)
		if err != nil {
			if jsonErr == nil {
				t.Fatalf("refused %s (%v), encoding/json takes it", body, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s became %s, not JSON", body, out)
		}
		if n == 0 && string(out) != string(body) {
			t.Fatalf("nothing respelled, yet %s became %s", body, out)
		}
		var before, after any
		if json.Unmarshal(body, &before) != nil || json.Unmarshal(out, &after) != nil || !reflect.DeepEqual(before, after) {
			t.Fatalf("%s became %s: other values", body, out)
		}
		var te *json.UnmarshalTypeError
		if err := json.Unmarshal(out, &into); errors.As(err, &te) && integerTypeError(err) && !isPlainInteger([]byte(strings.TrimPrefix(te.Value, "number "))) {
			t.Fatalf("%s became %s, still %v", body, out, err)
		}
	})
}
