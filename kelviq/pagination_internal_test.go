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
		page, size     *int
		first, n, skip int
	}{
		{nil, nil, 1, MaxPageSize, 0},
		{p(3), p(40), 3, 40, 0},
		{p(0), p(-1), 1, MaxPageSize, 0},
		{nil, p(1000), 1, 100, 0},
		{p(2), p(150), 2, 100, 50},  // item 151 first
		{p(2), p(101), 2, 100, 1},   // item 102 first, in pages of 100 (not of 1)
		{p(7), p(1000), 61, 100, 0}, // item 6001 first
		{p(math.MaxInt), p(1000), math.MaxInt, MaxPageSize, 0},
		{p(math.MaxInt), p(10), math.MaxInt, 10, 0},
	} {
		first, n, skip := firstPage(tc.page, tc.size)
		if first != tc.first || n != tc.n || skip != tc.skip {
			t.Errorf("page %v size %v: %d, %d, %d; want %d, %d, %d", tc.page, tc.size, first, n, skip, tc.first, tc.n, tc.skip)
		}
		if tc.size != nil && *tc.size > MaxPageSize && tc.page != nil && first != math.MaxInt && (first-1)*n+skip != (*tc.page-1)**tc.size {
			t.Errorf("page %d size %d: the walk starts at item %d", *tc.page, *tc.size, (first-1)*n+skip)
		}
	}
}
