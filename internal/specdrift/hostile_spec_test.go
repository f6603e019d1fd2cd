package specdrift

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// diamondSpec is a spec whose one operation answers schema L0, where each
// Li has three properties referencing L(i+1), depth deep, and the last is
// of type leaf: written out, the schema repeats L(depth) 3^depth times.
func diamondSpec(depth int, leaf string) string {
	var b strings.Builder
	b.WriteString(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/things/":{"get":{"operationId":"listThings",` +
		`"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/L0"}}}}}}}},` +
		`"components":{"schemas":{`)
	for i := range depth {
		next := fmt.Sprintf(`{"$ref":"#/components/schemas/L%d"}`, i+1)
		fmt.Fprintf(&b, `"L%d":{"type":"object","properties":{"a":%s,"b":%s,"c":%s}},`, i, next, next, next)
	}
	fmt.Fprintf(&b, `"L%d":{"type":%q}}}}`, depth, leaf)
	return b.String()
}

// diamondViews loads diamondSpec(depth) with a string leaf and with an
// integer one.
func diamondViews(t *testing.T, depth int) (base, rev *View) {
	t.Helper()
	base, err := LoadView([]byte(diamondSpec(depth, "string")), "base.json")
	if err != nil {
		t.Fatal(err)
	}
	rev, err = LoadView([]byte(diamondSpec(depth, "integer")), "rev.json")
	if err != nil {
		t.Fatal(err)
	}
	return base, rev
}

// A published spec whose schemas reference each other along exponentially
// many paths (3^40 here) does not take the check's memory: oasdiff shares
// the diff of a shared schema, and the rendering that would write it out
// once per path is refused, naming the operation. Without the bound this
// ran out of memory (2.2 GB in 37 s, then a fatal error).
func TestExponentialSchemaReferencesAreRefused(t *testing.T) {
	t.Parallel()
	b, r := diamondViews(t, 40)
	_, err := Compare(b, r, CompareOptions{})
	if err == nil || !strings.Contains(err.Error(), "GET /things/") || !strings.Contains(err.Error(), "too many paths") {
		t.Fatalf("Compare: %v, want a refusal naming the operation", err)
	}
}

// The same shape, shallow enough to render, is compared as usual: the leaf's
// type change is found once, not once per path.
func TestSharedSchemaReferencesStillCompared(t *testing.T) {
	t.Parallel()
	b, r := diamondViews(t, 4)
	c, err := Compare(b, r, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Changes) != 1 || !c.Changes[0].Breaking || !strings.Contains(c.Changes[0].Message, "type") {
		t.Errorf("changes %+v: want the leaf's type change, breaking, once", c.Changes)
	}
}

// treeSize counts a shared value once per use without walking it again, and
// saturates: a 3^60 tree is sized in microseconds.
func TestTreeSizeOfSharedValues(t *testing.T) {
	t.Parallel()
	type node struct{ A, B, C *node }
	var n *node
	for range 60 {
		n = &node{n, n, n}
	}
	if err := diffTooLarge(n, 1000); err == nil || !strings.Contains(err.Error(), "larger than 1000 nodes") {
		t.Errorf("3^60 tree: %v, want it refused", err)
	}
	leaf := &node{} // pointer 1 + struct 1 + three nil pointers 3 = 5
	small := &node{leaf, leaf, nil}
	if got := treeSize(reflect.ValueOf(small), map[ptrKey]int{}, 100); got != 1+1+5+5+1 {
		t.Errorf("small tree counts %d, want 13 (the shared leaf twice)", got)
	}
	if err := diffTooLarge(small, 13); err != nil {
		t.Errorf("small tree at its exact size: %v", err)
	}
	if err := diffTooLarge(small, 12); err == nil {
		t.Error("small tree one node over the bound: not refused")
	}
}
