package entitlements

import (
	"fmt"
	"reflect"
	"testing"
)

func TestAccessSetsShareEqualMapsOnly(t *testing.T) {
	var a accessSets
	m1 := a.intern(map[string]bool{"sso": true, "export": false})
	m2 := a.intern(map[string]bool{"export": false, "sso": true})
	if reflect.ValueOf(m1).Pointer() != reflect.ValueOf(m2).Pointer() {
		t.Fatal("equal access sets were not shared")
	}
	// Sets that a naive concatenation would confuse stay apart.
	for _, other := range []map[string]bool{
		{"sso": true, "export": true},
		{"sso": true},
		{"sso": true, "export": false, "x": false},
		{"sso+": true, "export": false},
		{"a-1:b": true},
		{"a": true, "b": false},
		{"1:a-1:b": true},
		{"": true},
	} {
		got := a.intern(other)
		if !reflect.DeepEqual(got, other) {
			t.Errorf("intern(%v) returned %v", other, got)
		}
	}
	// "a" granted and "b" denied must not come back as one ID "a-1:b".
	x := a.intern(map[string]bool{"a": true, "b": false})
	y := a.intern(map[string]bool{"a-1:b": true})
	if reflect.DeepEqual(x, y) {
		t.Fatal("two different sets shared a map")
	}
}

func TestAccessSetsAreBounded(t *testing.T) {
	var a accessSets
	for i := range maxInterned + 10 {
		a.intern(map[string]bool{fmt.Sprint("f", i): true})
	}
	if got := len(a.sets); got != maxInterned {
		t.Fatalf("%d sets kept, want the bound %d", got, maxInterned)
	}
	m := map[string]bool{"past-the-bound": true}
	if got := a.intern(m); !reflect.DeepEqual(got, m) {
		t.Fatalf("past the bound, intern returned %v", got)
	}
}

// Interned sets outlive the customers that made them (evicting a customer
// does not release its set), so what they hold is bounded in features, not
// only in sets: 4096 sets of a few thousand features each (a server that
// sends every customer a different large set) would pin gigabytes that
// WithMaxCustomers does not count.
func TestAccessSetsAreBoundedInFeatures(t *testing.T) {
	var a accessSets
	for i := range 100 {
		set := make(map[string]bool, 2000)
		for j := range 2000 {
			set[fmt.Sprint("c", i, "-f", j)] = true
		}
		a.intern(set)
	}
	held := 0
	for _, s := range a.sets {
		held += len(s)
	}
	if held > maxInternedFeatures {
		t.Fatalf("interned sets hold %d features, want at most %d", held, maxInternedFeatures)
	}
}
