package kelviq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"

	"github.com/kelviq/kelviq-go/nullable"
)

// MaxPageSize is the largest page_size the API accepts, and the page size
// of the iterators when the caller's params do not set one.
const MaxPageSize = 100

// ErrPaginationLoop is wrapped by the error an iterator yields when the
// server's pages do not come to an end: the same page twice in a row (a
// server ignoring the page number), or more pages than its count allows.
// It ends the loop instead of requesting pages forever.
var ErrPaginationLoop = errors.New("kelviq: the list's pages do not come to an end")

// The iterators (pagination.gen.go) are generated, one per operation of the
// spec that pages by number with query parameters page and page_size and
// answers {count, next, previous, results}: ListCustomersIter,
// ListOrdersIter … Each wires its operation to paginate.

// listPage is one page of a list as paginate sees it.
type listPage[T any] struct {
	count   *int
	next    nullable.Nullable[string]
	results []T
	body    []byte
}

// notAPage is the error for a list call that succeeded without a JSON page
// (a 204, or a 2xx the spec does not declare).
func notAPage(resp *http.Response) error {
	status, ct := 0, ""
	if resp != nil {
		status, ct = resp.StatusCode, resp.Header.Get("Content-Type")
	}
	return fmt.Errorf("%w: status %d with Content-Type %q is not a page of the list", ErrUnexpectedResponse, status, ct)
}

// paginate walks a list by page number, from page (default 1) with size
// items a page (default MaxPageSize), calling fetch once per page when the
// loop asks for more. It stops when a page is empty, when next is null, or
// when the items seen reach count; it yields an error as the last element,
// and ErrPaginationLoop when a page repeats the previous one byte for byte
// or the pages outnumber what count allows. It never follows the next URL.
func paginate[T any](ctx context.Context, opID string, page, size *int, fetch func(ctx context.Context, page, size int) (listPage[T], error)) iter.Seq2[T, error] {
	first, n := 1, MaxPageSize
	if page != nil && *page > 1 {
		first = *page
	}
	if size != nil && *size > 0 {
		n = *size
	}
	return func(yield func(T, error) bool) {
		var zero T
		var prev []byte
		offset := (first - 1) * n // items before the first page fetched
		seen := 0                 // items yielded
		full := 0                 // the length of the first page: a full page
		for p, fetched := first, 0; ; p++ {
			pg, err := fetch(ctx, p, n)
			if err != nil {
				yield(zero, fmt.Errorf("kelviq: %s page %d: %w", opID, p, err))
				return
			}
			fetched++
			if prev != nil && bytes.Equal(pg.body, prev) {
				yield(zero, fmt.Errorf("%w: %s page %d is the same as page %d", ErrPaginationLoop, opID, p, p-1))
				return
			}
			prev = pg.body
			for _, item := range pg.results {
				if !yield(item, nil) {
					return
				}
			}
			seen += len(pg.results)
			if len(pg.results) == 0 || (pg.next.IsSpecified() && pg.next.IsNull()) {
				return
			}
			if pg.count == nil {
				continue
			}
			count := *pg.count
			if offset+seen >= count {
				return
			}
			if full == 0 {
				full = len(pg.results)
			}
			// count items at full a page take ceil((count-offset)/full)
			// pages; one more is the slack for a list that grew meanwhile.
			if limit := (count-offset+full-1)/full + 1; fetched >= limit {
				yield(zero, fmt.Errorf("%w: %s: %d pages of up to %d items and still short of the count of %d", ErrPaginationLoop, opID, fetched, full, count))
				return
			}
		}
	}
}
