package kelviq

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/kelviq/kelviq-go/nullable"
)

// Without WithMaxPages a walk that never ends stops at DefaultMaxPages
// (10,000) pages: fetched in memory here, a page a different item.
func TestPaginateDefaultPageLimit(t *testing.T) {
	if DefaultMaxPages != 10_000 {
		t.Errorf("DefaultMaxPages is %d, the issue says 10,000", DefaultMaxPages)
	}
	fetches := 0
	seq := paginate(t.Context(), 0, "listThings", nil, nil, func(_ context.Context, page, size int) (listPage[int], error) {
		fetches++
		return listPage[int]{next: nullable.NewNullableWithValue("x"), results: []int{page}}, nil
	})
	items := 0
	var last error
	for _, err := range seq {
		if err != nil {
			last = err
			break
		}
		items++
	}
	if fetches != DefaultMaxPages || items != DefaultMaxPages || !errors.Is(last, ErrPaginationLoop) {
		t.Errorf("%d fetches, %d items, last error %v", fetches, items, last)
	}
}

func TestFirstPage(t *testing.T) {
	p := func(n int) *int { return &n }
	for _, tc := range []struct {
		page, size *int
		first, n   int
	}{
		{nil, nil, 1, MaxPageSize},
		{p(3), p(40), 3, 40},
		{p(0), p(-1), 1, MaxPageSize},
		{nil, p(1000), 1, 100},
		{p(2), p(150), 3, 75}, // item 151 first
		{p(2), p(101), 102, 1},
		{p(math.MaxInt), p(1000), math.MaxInt, MaxPageSize},
		{p(math.MaxInt), p(10), math.MaxInt, 10},
	} {
		first, n := firstPage(tc.page, tc.size)
		if first != tc.first || n != tc.n {
			t.Errorf("page %v size %v: %d, %d; want %d, %d", tc.page, tc.size, first, n, tc.first, tc.n)
		}
		if tc.size != nil && *tc.size > MaxPageSize && tc.page != nil && first != math.MaxInt && (first-1)*n != (*tc.page-1)**tc.size {
			t.Errorf("page %d size %d: the walk starts at item %d", *tc.page, *tc.size, (first-1)*n)
		}
	}
}
