package specdrift

import (
	"fmt"
	"reflect"
)

// maxDiffNodes bounds the size of an oasdiff diff once written out as a
// tree, which is what rendering it (canonicalDiff) builds. oasdiff shares
// the diff of a schema reached along several paths, so the diff itself
// stays small, but written out it repeats that schema once per path: a
// hostile spec whose schemas each reference the next one three times, 40
// deep, renders 3^40 copies and the process runs out of memory. Nodes are
// counted generously (every field, nil ones included): the largest diff of
// an operation between the spec history's versions counts about 100,000, a
// diff counting 29 million renders in about 60 MB, one counting 260
// million took 316 MB.
const maxDiffNodes = 1 << 26

// diffTooLarge fails when v, written out as a tree, has more than max
// nodes. It counts each shared value once and multiplies by its uses, so
// it takes time in the size of v, not of the tree.
func diffTooLarge(v any, max int) error {
	memo := map[ptrKey]int{}
	if n := treeSize(reflect.ValueOf(v), memo, max); n > max {
		return fmt.Errorf("the diff is larger than %d nodes written out (a schema reached along too many paths): not rendered", max)
	}
	return nil
}

type ptrKey struct {
	p uintptr
	t reflect.Type
}

// treeSize is 1 plus the size of v's exported parts, saturating above max.
func treeSize(v reflect.Value, memo map[ptrKey]int, max int) int {
	add := func(n, m int) int { return min(n+m, max+1) }
	switch v.Kind() {
	case reflect.Pointer, reflect.Map:
		if v.IsNil() {
			return 1
		}
		k := ptrKey{v.Pointer(), v.Type()}
		if n, ok := memo[k]; ok {
			return n // done, or 0 while in progress (a cycle, which json.Marshal reports itself)
		}
		memo[k] = 0
		n := 1
		if v.Kind() == reflect.Pointer {
			n = add(n, treeSize(v.Elem(), memo, max))
		} else {
			for it := v.MapRange(); it.Next() && n <= max; {
				n = add(n, add(treeSize(it.Key(), memo, max), treeSize(it.Value(), memo, max)))
			}
		}
		memo[k] = n
		return n
	case reflect.Interface:
		if v.IsNil() {
			return 1
		}
		return treeSize(v.Elem(), memo, max)
	case reflect.Struct:
		n := 1
		for i := 0; i < v.NumField() && n <= max; i++ {
			if v.Type().Field(i).IsExported() {
				n = add(n, treeSize(v.Field(i), memo, max))
			}
		}
		return n
	case reflect.Slice, reflect.Array:
		n := 1
		for i := 0; i < v.Len() && n <= max; i++ {
			n = add(n, treeSize(v.Index(i), memo, max))
		}
		return n
	}
	return 1
}
