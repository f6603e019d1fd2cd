package kelviq_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/nullable"
)

// The hostile server of the report: no count (the spec makes it optional),
// the page number ignored, and a next link that differs every time, so no
// two bodies are equal. The iterator stops at the second page, whose items
// repeat the first's, with ErrPaginationLoop.
func TestIterEndsWithoutCountWhenItemsRepeat(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, fmt.Sprintf(`{"next":"http://x/?page=%d&nonce=%d","previous":null,"results":[{"customerId":"cus_001"},{"customerId":"cus_002"}]}`, n+1, n))
	})
	c := newHarness(t).client(srv.URL, nil)
	ids, errs, after := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if !slices.Equal(ids, wantIDs(1, 2)) || len(errs) != 1 || after != 0 || !errors.Is(errs[0], kelviq.ErrPaginationLoop) {
		t.Fatalf("%v, errors %v", ids, errs)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// A server whose pages never repeat and never end (no count, a new item on
// every page) is stopped by the page limit.
func TestIterEndsAtThePageLimit(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, fmt.Sprintf(`{"next":"http://x/?n=%d","results":[{"customerId":"cus_%d"}]}`, n, n))
	})
	c := newHarness(t).client(srv.URL, nil, kelviq.WithMaxPages(25))
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if len(ids) != 25 || len(errs) != 1 || !errors.Is(errs[0], kelviq.ErrPaginationLoop) || !strings.Contains(errs[0].Error(), "WithMaxPages") {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	if n := len(srv.requests()); n != 25 {
		t.Errorf("%d requests, want 25", n)
	}
	if _, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithMaxPages(0)); !errors.Is(err, kelviq.ErrInvalidConfig) || !strings.Contains(err.Error(), "WithMaxPages") {
		t.Errorf("WithMaxPages(0): %v", err)
	}
}

// A count of math.MaxInt does not overflow the page bound: a list that ends
// by next = null ends without error, and one that never ends stops at the
// page limit.
func TestIterHugeCount(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		page := atoi(r.URL.Query().Get("page"), 1)
		next := `"http://x/"`
		if page == 3 && r.URL.Query().Get("forever") == "" {
			next = "null"
		}
		items := make([]string, 100)
		for i := range items {
			items[i] = fmt.Sprintf(`{"customerId":"cus_%03d"}`, (page-1)*100+i+1)
		}
		writeJSON(w, 200, fmt.Sprintf(`{"count":%d,"next":%s,"results":[%s]}`, math.MaxInt, next, strings.Join(items, ",")))
	})
	c := newHarness(t).client(srv.URL, nil, kelviq.WithMaxPages(7))
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if !slices.Equal(ids, wantIDs(1, 300)) || len(errs) != 0 {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	forever := "1"
	_, errs, _ = collect(c.ListCustomersIter(t.Context(), nil, func(_ context.Context, r *http.Request) error {
		q := r.URL.Query()
		q.Set("forever", forever)
		r.URL.RawQuery = q.Encode()
		return nil
	}), nil)
	if len(errs) != 1 || !errors.Is(errs[0], kelviq.ErrPaginationLoop) || !strings.Contains(errs[0].Error(), "7 pages") {
		t.Errorf("errors %v", errs)
	}
	// And a page number at the end of int: no overflow, no endless walk.
	last := math.MaxInt
	_, errs, _ = collect(c.ListCustomersIter(t.Context(), &api.ListCustomersParams{Page: &last}), nil)
	if len(errs) != 1 {
		t.Errorf("from page MaxInt: errors %v", errs)
	}
}

// Iterators never ask for more than MaxPageSize; a larger size walks the
// same items from the same first item.
func TestIterNeverAsksMoreThanMaxPageSize(t *testing.T) {
	p := newPager(t, 500)
	c, _ := pagerClient(t, p)
	big := 1_000_000
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), &api.ListCustomersParams{PageSize: &big}), nil)
	if !slices.Equal(ids, wantIDs(1, 500)) || len(errs) != 0 {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	size, page := 150, 2 // items 151…: pages of 75 from page 3
	ids, errs, _ = collect(c.ListCustomersIter(t.Context(), &api.ListCustomersParams{PageSize: &size, Page: &page}), nil)
	if !slices.Equal(ids, wantIDs(151, 500)) || len(errs) != 0 {
		t.Fatalf("from page 2 of 150: %d items (first %v), errors %v", len(ids), ids[:min(1, len(ids))], errs)
	}
	for _, q := range p.pages() {
		v, _ := url.ParseQuery(q)
		if n := atoi(v.Get("page_size"), 0); n < 1 || n > kelviq.MaxPageSize {
			t.Errorf("a request asked for %s", q)
		}
	}
}

// A direct call with page_size above MaxPageSize fails before sending,
// naming MaxPageSize.
func TestDirectCallPageSizeAboveMax(t *testing.T) {
	p := newPager(t, 10)
	c, _ := pagerClient(t, p)
	for _, size := range []int{kelviq.MaxPageSize + 1, 1_000_000, math.MaxInt} {
		_, err := c.ListCustomersWithResponse(t.Context(), &api.ListCustomersParams{PageSize: &size})
		if !errors.Is(err, kelviq.ErrInvalidParameter) || !strings.Contains(err.Error(), "MaxPageSize") || !strings.Contains(err.Error(), "listCustomers") {
			t.Errorf("page_size %d: %v", size, err)
		}
	}
	if got := p.pages(); len(got) != 0 {
		t.Errorf("sent: %v", got)
	}
	ok := kelviq.MaxPageSize
	if _, err := c.ListCustomersWithResponse(t.Context(), &api.ListCustomersParams{PageSize: &ok}); err != nil {
		t.Errorf("page_size %d: %v", ok, err)
	}
	// A request editor writing page_size in a form a server decodes to a
	// number above the maximum: refused too, nothing sent.
	for _, q := range []string{"page_size=%2B1000", "page_size=+1000", "page%5Fsize=1000", "page%5fsize=%31%30%31", "page_size=1000%20", "page_size=1_000", "page_size=1e3", "page_size=0x3e8", "a=1&page_size=100&page_size=101", "page_size=" + strings.Repeat("9", 10000)} {
		editor := func(_ context.Context, req *http.Request) error {
			req.URL.RawQuery = q
			return nil
		}
		_, err := c.ListCustomersWithResponse(t.Context(), nil, editor)
		if !errors.Is(err, kelviq.ErrInvalidParameter) || !strings.Contains(err.Error(), "MaxPageSize") || len(err.Error()) > 512 {
			t.Errorf("query %.40s: %.600v", q, err)
		}
	}
	if got := p.pages(); len(got) != 1 {
		t.Errorf("sent: %v", got)
	}
	// (page_size 0 and -1 are refused too: TestEveryPageSizeBelowOneIsRefusedBeforeSending.)
	for _, q := range []string{"page_size=100", "page_size=%31%30%30", "page_size=1", "page_sizes=1000", "page_sizes=0", "x=page_size%3D1000"} {
		editor := func(_ context.Context, req *http.Request) error {
			req.URL.RawQuery = q
			return nil
		}
		if _, err := c.ListCustomersWithResponse(t.Context(), nil, editor); errors.Is(err, kelviq.ErrInvalidParameter) {
			t.Errorf("query %s: %v", q, err)
		}
	}
}

// An iterator's error reads once: one "kelviq:" prefix, the operation
// named once, a field error not repeated after the message that holds it.
func TestIterErrorReadsOnce(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 400, `{"error":"Invalid request: page_size: number must be at most 100","page_size":["number must be at most 100"]}`)
	})
	c := newHarness(t).client(srv.URL, nil)
	_, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if len(errs) != 1 {
		t.Fatalf("errors %v", errs)
	}
	msg := errs[0].Error()
	for sub, want := range map[string]int{"kelviq:": 1, "listCustomers": 1, "number must be at most 100": 1, "page 1": 1} {
		if n := strings.Count(msg, sub); n != want {
			t.Errorf("%q appears %d times in %q", sub, n, msg)
		}
	}
	var apiErr *kelviq.Error
	if !errors.As(errs[0], &apiErr) || apiErr.StatusCode != 400 || apiErr.FieldErrors["page_size"] == nil {
		t.Errorf("not an *Error with its fields: %#v", errs[0])
	}
}

// A cancelled call, and a network failure, name the operation, and
// errors.Is / errors.As still reach context.Canceled and *url.Error.
func TestTransportErrorsNameTheOperation(t *testing.T) {
	p := newPager(t, 10)
	c, srv := pagerClient(t, p)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.ListCustomersWithResponse(ctx, nil)
	var ue *url.Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ue) || !strings.Contains(err.Error(), "listCustomers (GET /customers/)") || strings.Count(err.Error(), "kelviq:") != 1 {
		t.Errorf("cancelled: %v", err)
	}
	_, errs, _ := collect(c.ListCustomersIter(ctx, nil), nil)
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) || strings.Count(errs[0].Error(), "listCustomers") != 1 || !strings.Contains(errs[0].Error(), "page 1") {
		t.Errorf("iterator, cancelled: %v", errs)
	}
	srv.Close()
	c = newHarness(t).client(srv.URL, nil, kelviq.WithRetries(0))
	_, err = c.GetCustomerEntitlementsWithResponse(t.Context(), &api.GetCustomerEntitlementsParams{CustomerID: "cus_1"})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "getCustomerEntitlements (GET /entitlements/)") {
		t.Errorf("server gone: %v", err)
	}
}

// A redirect loop reads once too: the operation, then net/http's words.
func TestRedirectLoopErrorReadsOnce(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, fmt.Sprintf("/customers/?n=%d", n), http.StatusFound)
	})
	_, err := newHarness(t).client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
	var ue *url.Error
	if !errors.As(err, &ue) || strings.Count(err.Error(), "kelviq:") != 1 || !strings.Contains(err.Error(), "listCustomers") || !strings.Contains(err.Error(), "10 redirects") {
		t.Errorf("error: %v", err)
	}
}

// A page size above MaxPageSize walks exactly the items from the caller's
// first one ((page-1)*size+1), in pages of MaxPageSize: no item skipped or
// doubled, whatever the offset, in few requests. (Page 2 of 101 used to be
// walked one item a request, so a list of any length hit the page limit
// with a false ErrPaginationLoop.)
func TestIterSplitsALargePageSize(t *testing.T) {
	const n = 1000
	for _, tc := range []struct{ page, size int }{{1, 101}, {2, 101}, {2, 150}, {3, 333}, {4, 250}, {5, 199}, {10, 111}, {9, 124}, {3, 499}} {
		p := newPager(t, n)
		c, _ := pagerClient(t, p, kelviq.WithMaxPages(12))
		page, size := tc.page, tc.size
		ids, errs, after := collect(c.ListCustomersIter(t.Context(), &api.ListCustomersParams{Page: &page, PageSize: &size}), nil)
		from := (page-1)*size + 1
		if !slices.Equal(ids, wantIDs(from, n)) || len(errs) != 0 || after != 0 {
			t.Errorf("page %d of %d: %d items (want %d from cus_%03d), errors %v", page, size, len(ids), n-from+1, from, errs)
		}
		if got, most := len(p.pages()), (n-from+kelviq.MaxPageSize)/kelviq.MaxPageSize+1; got > most {
			t.Errorf("page %d of %d: %d requests, want at most %d", page, size, got, most)
		}
	}
}

// An error of building the request (a body that does not marshal, a request
// editor's own error) names the operation too, once, and errors.Is still
// reaches the editor's error. Nothing is sent.
func TestBuildErrorsNameTheOperation(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(204) })
	c := newHarness(t).client(srv.URL, nil)
	_, err := c.CreateCheckoutSessionWithResponse(t.Context(), api.CreateCheckoutSessionJSONRequestBody{CustomAmount: nullable.NewNullableWithValue(math.NaN())})
	if msg := fmt.Sprint(err); !strings.Contains(msg, "createCheckoutSession") || strings.Count(msg, "kelviq:") != 1 || !strings.Contains(msg, "NaN") {
		t.Errorf("NaN body: %v", err)
	}
	errEditor := errors.New("no tenant in the context")
	editor := func(context.Context, *http.Request) error { return errEditor }
	_, errs, _ := collect(c.ListCustomersIter(t.Context(), nil, editor), nil)
	if len(errs) != 1 || !errors.Is(errs[0], errEditor) || strings.Count(errs[0].Error(), "listCustomers") != 1 || strings.Count(errs[0].Error(), "kelviq:") != 1 {
		t.Errorf("editor: %v", errs)
	}
	// A nil context (a careless caller) is an error naming the call, not
	// the panic of net/http's req.WithContext(nil).
	//lint:ignore SA1012 the careless caller under test
	_, err = c.ListCustomersWithResponse(nilContext(), nil) //nolint:staticcheck
	if !errors.Is(err, kelviq.ErrInvalidParameter) || !strings.Contains(fmt.Sprint(err), "listCustomers") {
		t.Errorf("nil context: %v", err)
	}
	//lint:ignore SA1012 the careless caller under test
	for _, err := range c.ListCustomersIter(nilContext(), nil) { //nolint:staticcheck
		if !errors.Is(err, kelviq.ErrInvalidParameter) {
			t.Errorf("iterator, nil context: %v", err)
		}
	}
	// The client's own errors are not wrapped again.
	_, err = c.RetrieveOrderWithResponse(t.Context(), "..")
	if strings.Count(fmt.Sprint(err), "kelviq:") != 1 || !errors.Is(err, kelviq.ErrInvalidParameter) {
		t.Errorf("path parameter: %v", err)
	}
	if got := srv.requests(); len(got) != 0 {
		t.Errorf("%d requests sent", len(got))
	}
}

// nilContext is a nil context.Context, as a careless caller passes one.
func nilContext() context.Context { return nil }

// The same hostile server with a count: the page number ignored, a next
// link that differs every time. The count bound alone let the repeats
// through: at count 250 the walk yielded the first 100 items three times
// and ended without an error. A page whose items repeat the previous
// page's ends the walk, count or not.
func TestIterEndsWithCountWhenItemsRepeat(t *testing.T) {
	for _, count := range []int{250, math.MaxInt, -1, 0} {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			items := make([]string, 100)
			for i := range items {
				items[i] = fmt.Sprintf(`{"customerId":"cus_%03d"}`, i+1)
			}
			writeJSON(w, 200, fmt.Sprintf(`{"count":%d,"next":"http://x/?page=%d&nonce=%d","previous":null,"results":[%s]}`, count, n+1, n, strings.Join(items, ",")))
		})
		c := newHarness(t).client(srv.URL, nil)
		ids, errs, after := collect(c.ListCustomersIter(t.Context(), nil), nil)
		if count <= 0 {
			// A count of 0 or less ends the walk after the first page.
			if !slices.Equal(ids, wantIDs(1, 100)) || len(errs) != 0 || len(srv.requests()) != 1 {
				t.Errorf("count %d: %d items, errors %v, %d requests", count, len(ids), errs, len(srv.requests()))
			}
			continue
		}
		if !slices.Equal(ids, wantIDs(1, 100)) || len(errs) != 1 || after != 0 || !errors.Is(errs[0], kelviq.ErrPaginationLoop) {
			t.Errorf("count %d: %d items, errors %v", count, len(ids), errs)
		}
		if n := len(srv.requests()); n != 2 {
			t.Errorf("count %d: %d requests, want 2", count, n)
		}
	}
}

// A count that moves: one that grows by a page with every page (new items
// each time) is bounded by the page limit; one that shrinks below what was
// walked ends the walk there, without an error (the list got shorter).
func TestIterMovingCount(t *testing.T) {
	page := func(n, count int) string {
		items := make([]string, 10)
		for i := range items {
			items[i] = fmt.Sprintf(`{"customerId":"cus_%d_%d"}`, n, i)
		}
		return fmt.Sprintf(`{"count":%d,"next":"http://x/?n=%d","results":[%s]}`, count, n, strings.Join(items, ","))
	}
	growing := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, page(n, 10*(n+2))) })
	ids, errs, _ := collect(newHarness(t).client(growing.URL, nil, kelviq.WithMaxPages(30)).ListCustomersIter(t.Context(), nil), nil)
	if len(ids) != 300 || len(errs) != 1 || !errors.Is(errs[0], kelviq.ErrPaginationLoop) || len(growing.requests()) != 30 {
		t.Errorf("growing: %d items, errors %v, %d requests", len(ids), errs, len(growing.requests()))
	}
	shrinking := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, page(n, 1000-500*n)) })
	ids, errs, _ = collect(newHarness(t).client(shrinking.URL, nil).ListCustomersIter(t.Context(), nil), nil)
	if len(ids) != 20 || len(errs) != 0 || len(shrinking.requests()) != 2 {
		t.Errorf("shrinking: %d items, errors %v, %d requests", len(ids), errs, len(shrinking.requests()))
	}
}
