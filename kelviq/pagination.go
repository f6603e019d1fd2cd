package kelviq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/nullable"
)

// MaxPageSize is the largest page_size the API accepts, and the page size
// of the iterators when the caller's params do not set one.
const MaxPageSize = 100

// ErrPaginationLoop is wrapped by the error an iterator yields when the
// server's pages do not come to an end: the same page, or the same items,
// twice in a row (a server ignoring the page number), more pages than its
// count allows, or
// more than the client's page limit (DefaultMaxPages, WithMaxPages).
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
func (c *Client) notAPage(op string, resp *http.Response) error {
	status, ct := 0, ""
	if resp != nil {
		status, ct = resp.StatusCode, c.red.text(resp.Header.Get("Content-Type"), maxMessage)
	}
	return fmt.Errorf("%w: %s: status %d with Content-Type %q is not a page of the list", ErrUnexpectedResponse, op, status, ct)
}

// DefaultMaxPages is the most pages an iterator fetches in one walk unless
// WithMaxPages says otherwise: 10,000 pages of 100 is a million items. It
// bounds a walk whatever the server answers (a next link that changes every
// time, a count that never comes).
const DefaultMaxPages = 10_000

// pageError is an error of one page's call, as an iterator yields it: the
// call's own error (which names the operation) and the page number, read
// once.
type pageError struct {
	op   string
	page int
	err  error
}

func (e *pageError) Error() string {
	msg := e.err.Error()
	if !strings.Contains(msg, e.op) {
		return "kelviq: " + e.op + " page " + strconv.Itoa(e.page) + ": " + msg
	}
	return msg + " (page " + strconv.Itoa(e.page) + ")"
}

func (e *pageError) Unwrap() error { return e.err }

// firstPage returns the page to start from, the page size of a walk and
// how many items of the first page to skip: the caller's page (default 1)
// and size (default MaxPageSize), except that a size above MaxPageSize,
// which the API refuses, becomes pages of MaxPageSize from the page that
// holds the caller's first item, skipping the items before it. (Not the
// largest size that divides the offset: page 2 of 101 would then walk one
// item per request, and a long list would hit the page limit.)
func firstPage(page, size *int) (first, n, skip int) {
	first, n = 1, MaxPageSize
	if page != nil && *page > 1 {
		first = *page
	}
	if size != nil && *size > 0 {
		n = *size
	}
	if n <= MaxPageSize {
		return first, n, 0
	}
	offset := satMul(first-1, n)
	if offset == math.MaxInt {
		return math.MaxInt, MaxPageSize, 0 // beyond any list: the server says so
	}
	return offset/MaxPageSize + 1, MaxPageSize, offset % MaxPageSize
}

// satMul is a*b for a, b >= 0, or math.MaxInt when that overflows.
func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// paginate walks a list by page number, from page (default 1) with size
// items a page (default MaxPageSize, never more), calling fetch once per
// page when the loop asks for more. It stops when a page is empty, when
// next is null, or when the items seen reach count. It yields an error as
// the last element; ErrPaginationLoop when the pages do not come to an
// end: a page the same as the previous one (byte for byte, or the same
// items, count or no count: a server ignoring the page number with a next
// link that changes every time would otherwise have its first page yielded
// until the count or the page limit), more pages than count allows, or
// maxPages pages. It never follows the next URL.
func paginate[T any](ctx context.Context, maxPages int, opID string, page, size *int, fetch func(ctx context.Context, page, size int) (listPage[T], error)) iter.Seq2[T, error] {
	first, n, skip := firstPage(page, size)
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	return func(yield func(T, error) bool) {
		var zero T
		var prevBody []byte
		var prevResults []T
		offset := satMul(first-1, n) // items before the first page fetched
		seen := 0                    // items of the pages fetched, skipped ones included
		full := 0                    // the length of the first page: a full page
		for p, fetched := first, 0; ; p++ {
			if fetched >= maxPages {
				yield(zero, fmt.Errorf("%w: %s: %d pages and still no end (kelviq.WithMaxPages)", ErrPaginationLoop, opID, fetched))
				return
			}
			pg, err := fetch(ctx, p, n)
			if err != nil {
				yield(zero, &pageError{op: opID, page: p, err: err})
				return
			}
			fetched++
			if fetched > 1 && ((len(pg.body) > 0 && bytes.Equal(pg.body, prevBody)) || (len(pg.results) > 0 && reflect.DeepEqual(pg.results, prevResults))) {
				yield(zero, fmt.Errorf("%w: %s page %d is the same as page %d", ErrPaginationLoop, opID, p, p-1))
				return
			}
			prevBody, prevResults = pg.body, pg.results
			for i, item := range pg.results {
				if fetched == 1 && i < skip {
					continue // before the caller's first item
				}
				if !yield(item, nil) {
					return
				}
			}
			seen += len(pg.results)
			if len(pg.results) == 0 || (pg.next.IsSpecified() && pg.next.IsNull()) {
				return
			}
			if p == math.MaxInt {
				yield(zero, fmt.Errorf("%w: %s: page %d is the last page number there is", ErrPaginationLoop, opID, p))
				return
			}
			if pg.count == nil {
				continue
			}
			count := *pg.count
			if count <= offset || seen >= count-offset {
				return
			}
			if full == 0 {
				full = len(pg.results)
			}
			// count-offset items at full a page take ceil((count-offset)/full)
			// pages; one more is the slack for a list that grew meanwhile.
			// (Written so that no count overflows.)
			remaining := count - offset
			pages := remaining / full
			if remaining%full != 0 {
				pages++
			}
			if fetched > pages {
				yield(zero, fmt.Errorf("%w: %s: %d pages of up to %d items and still short of the count of %d", ErrPaginationLoop, opID, fetched, full, count))
				return
			}
		}
	}
}

// checkPageSize fails a request of a paginated operation whose page_size
// query parameter is above MaxPageSize, which the API would refuse, or
// below 1 (0, -1), which asks for pages of nothing. It
// reads the raw query without allocating when nothing in it is escaped.
// A page_size a request editor wrote in another form ("%2B1000", "+1000",
// which is " 1000", "page%5Fsize=1000", "1e3") is read as a server would
// decode it, and refused unless it is a plain decimal number: a lenient
// server (Python's int() takes " 1000" and "1_000") would read it as
// above the maximum.
func checkPageSize(op *api.Operation, rawQuery string) error {
	for rest := rawQuery; rest != ""; {
		var kv string
		kv, rest, _ = strings.Cut(rest, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(kv, "%+") {
			k, v = queryUnescape(k), queryUnescape(v)
		}
		if k != "page_size" {
			continue
		}
		n, err := strconv.Atoi(v)
		var numErr *strconv.NumError
		switch {
		case err == nil && n > MaxPageSize, errors.As(err, &numErr) && numErr.Err == strconv.ErrRange && !strings.HasPrefix(v, "-"):
			return fmt.Errorf("%w: %s: page_size %q is above kelviq.MaxPageSize (%d), the most the API accepts; the iterator (%sIter) walks any number of items", ErrInvalidParameter, op.ID, clean(v, 64), MaxPageSize, op.GoName)
		case err == nil && n < 1, errors.As(err, &numErr) && numErr.Err == strconv.ErrRange && strings.HasPrefix(v, "-"):
			// The API's answer to 0 or -1 is not documented (an error, or
			// a default page size): a caller asking for an empty page has
			// a bug, and a default would look like a short list.
			return fmt.Errorf("%w: %s: page_size %q is below 1; leave PageSize nil for the default (the iterator %sIter walks pages of kelviq.MaxPageSize, %d)", ErrInvalidParameter, op.ID, clean(v, 64), op.GoName, MaxPageSize)
		case err != nil || strings.HasPrefix(v, "+"):
			return fmt.Errorf("%w: %s: page_size %q is not a plain number (at most kelviq.MaxPageSize, %d)", ErrInvalidParameter, op.ID, clean(v, 64), MaxPageSize)
		}
	}
	return nil
}

// queryUnescape decodes s as a server decodes a query's key or value;
// s itself if it is not valid.
func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
