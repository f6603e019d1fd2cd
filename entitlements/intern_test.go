package entitlements

import (
	"fmt"
	"reflect"
	"strings"
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

// Past maxInterned sets, the least recently shared is dropped: the table
// keeps the bound, a new set is still shared, and what was dropped is
// counted.
func TestAccessSetsAreBounded(t *testing.T) {
	var a accessSets
	for i := range maxInterned + 10 {
		a.intern(map[string]bool{fmt.Sprint("f", i): true})
	}
	sets, bytes, freed := a.held()
	if sets != maxInterned {
		t.Fatalf("%d sets kept, want the bound %d", sets, maxInterned)
	}
	if freed == 0 || bytes <= 0 {
		t.Fatalf("held %d bytes, freed %d: the dropped sets were not measured", bytes, freed)
	}
	m := map[string]bool{"past-the-bound": true}
	if got := a.intern(m); reflect.ValueOf(got).Pointer() != reflect.ValueOf(m).Pointer() {
		t.Fatal("a new set was not kept")
	}
	if got := a.intern(map[string]bool{"past-the-bound": true}); reflect.ValueOf(got).Pointer() != reflect.ValueOf(m).Pointer() {
		t.Fatal("a set kept past the bound is not shared")
	}
}

// Interned sets outlive the customers that made them, so what they hold is
// bounded in bytes, not only in sets: a server that sends every customer a
// different large set (2,000 features each) or huge feature IDs must not
// pin more than maxInternedBytes, and the bytes the table counts go down by
// what it drops.
func TestAccessSetsAreBoundedInBytes(t *testing.T) {
	var a accessSets
	const n = 300
	for i := range n {
		set := make(map[string]bool, 200)
		for j := range 200 {
			set[fmt.Sprint("c", i, "-f", j)] = true
		}
		a.intern(set)
	}
	sets, bytes, freed := a.held()
	if bytes > maxInternedBytes {
		t.Fatalf("interned sets cost %d bytes, want at most %d", bytes, maxInternedBytes)
	}
	if sets == 0 || sets == n {
		t.Fatalf("%d of %d sets kept: want some, within the bytes bound", sets, n)
	}
	// Every set costs at least its 200 entries: what was dropped is freed.
	if want := uint64(n-sets) * 200 * entryCost; freed < want {
		t.Fatalf("freed %d bytes for %d dropped sets, want at least %d", freed, n-sets, want)
	}
	// A set larger than maxInternedSetBytes is not kept at all.
	big := map[string]bool{strings.Repeat("x", 512<<10): true}
	if got := a.intern(big); reflect.ValueOf(got).Pointer() != reflect.ValueOf(big).Pointer() {
		t.Fatal("a huge set was replaced")
	}
	if _, after, _ := a.held(); after != bytes {
		t.Fatalf("a huge set changed the bytes held: %d → %d", bytes, after)
	}
}
