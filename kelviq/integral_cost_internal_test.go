package kelviq

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

// A body that needs respelling (one 10.0) padded with many members, known
// ones and unknown ones, costs the walker no allocation per member: it
// looked up each member's field with reflect.VisibleFields and spelled
// its path as a string, which made a hostile 16 MiB body cost seconds of
// CPU (20× decoding it), on every call that carried one such number.
func TestRespellAllocationsDoNotGrowWithMembers(t *testing.T) {
	field, _ := reflect.TypeFor[api.GetCustomerEntitlementsResult]().FieldByName("JSON200")
	body := func(members int) []byte {
		var b bytes.Buffer
		b.WriteString(`{"customerId":"c","entitlements":[{"featureId":"f","featureType":"METER","hasAccess":true,"usageLimit":10.0,"currentUsage":0}`)
		for range members {
			b.WriteString(`,{"featureId":"f","hasAccess":true,"x":0,"Y":[1,2]}`)
		}
		b.WriteString(`]`)
		for range members {
			b.WriteString(`,"unknown":{"a":1}`)
		}
		b.WriteString(`}`)
		return b.Bytes()
	}
	allocs := func(b []byte) float64 {
		return testing.AllocsPerRun(5, func() {
			if _, n, err := respellIntegers(b, field.Type, canonicalInteger); err != nil || n != 1 {
				t.Fatalf("respelled %d, %v; want 1, nil", n, err)
			}
		})
	}
	small, large := allocs(body(10)), allocs(body(10_000))
	if large > small+20 {
		t.Errorf("respelling a body of 10 members × 2 allocated %.0f times, of 10,000 members × 2 %.0f times: want no allocation per member", small, large)
	}
}

// The path in an error still names the field, with escaped keys decoded.
func TestRespellErrorPath(t *testing.T) {
	field, _ := reflect.TypeFor[api.GetCustomerEntitlementsResult]().FieldByName("JSON200")
	b := []byte(`{"customerId":"c","entitlements":[{"usageLimit":10.0},{"usage\u004cimit":10.5}]}`)
	_, _, err := respellIntegers(b, field.Type, canonicalInteger)
	if err == nil || !strings.HasPrefix(err.Error(), "entitlements[1].usageLimit: the number 10.5 is not a whole number") {
		t.Errorf("got %v", err)
	}
}
