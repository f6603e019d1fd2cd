package kelviq_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// pager serves a list of n customers (cus_001 …) the way kelviq pages:
// query parameters page (default 1) and page_size (default 10), a body
// {count, next, previous, results} with absolute http:// links, and 404
// "Invalid page." past the end. It records the query of every request.
type pager struct {
	n       int
	mu      sync.Mutex
	queries []string
}

func newPager(t *testing.T, n int) *pager { return &pager{n: n} }

func (p *pager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, size := atoi(q.Get("page"), 1), atoi(q.Get("page_size"), 10)
	p.mu.Lock()
	p.queries = append(p.queries, r.URL.RawQuery)
	p.mu.Unlock()
	start := (page - 1) * size
	if page < 1 || size < 1 || (page > 1 && start >= p.n) {
		writeJSON(w, 404, `{"detail":"Invalid page."}`)
		return
	}
	items := []map[string]string{}
	for i := start; i < min(start+size, p.n); i++ {
		items = append(items, map[string]string{"customerId": fmt.Sprintf("cus_%03d", i+1)})
	}
	var next, prev any
	link := func(page int) string {
		return fmt.Sprintf("http://%s%s?page=%d&page_size=%d", r.Host, r.URL.Path, page, size)
	}
	if start+size < p.n {
		next = link(page + 1)
	}
	if page > 1 {
		prev = link(page - 1)
	}
	body, _ := json.Marshal(map[string]any{"count": p.n, "next": next, "previous": prev, "results": items})
	writeJSON(w, 200, string(body))
}

func (p *pager) pages() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.queries...)
}

func atoi(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// collect runs an iterator to its end, or until stop returns true.
func collect(seq func(func(api.CustomerResponse, error) bool), stop func(n int) bool) (ids []string, errs []error, afterErr int) {
	for c, err := range seq {
		if len(errs) > 0 {
			afterErr++ // anything after an error is a bug
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, *c.CustomerID)
		if stop != nil && stop(len(ids)) {
			break
		}
	}
	return ids, errs, afterErr
}

func pagerClient(t *testing.T, p http.Handler, opts ...kelviq.Option) (*kelviq.Client, *faultServer) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { p.ServeHTTP(w, r) })
	return newHarness(t).client(srv.URL, nil, opts...), srv
}

func wantIDs(from, to int) []string {
	var ids []string
	for i := from; i <= to; i++ {
		ids = append(ids, fmt.Sprintf("cus_%03d", i))
	}
	return ids
}

func TestIterWalksAllPages(t *testing.T) {
	p := newPager(t, 250)
	c, _ := pagerClient(t, p)
	seq := c.ListCustomersIter(t.Context(), nil)
	ids, errs, _ := collect(seq, nil)
	if len(errs) != 0 || !slices.Equal(ids, wantIDs(1, 250)) {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	want := []string{"page=1&page_size=100", "page=2&page_size=100", "page=3&page_size=100"}
	if got := p.pages(); !sameQueries(got, want) {
		t.Errorf("requests %v, want %v (each page once, by number)", got, want)
	}
	// Ranging again walks the list again.
	if ids, _, _ := collect(seq, nil); len(ids) != 250 || len(p.pages()) != 6 {
		t.Errorf("second walk: %d items, %d requests in all", len(ids), len(p.pages()))
	}
}

func TestIterKeepsTheCallersParams(t *testing.T) {
	p := newPager(t, 250)
	c, _ := pagerClient(t, p)
	size, search := 40, "acme"
	params := &api.ListCustomersParams{PageSize: &size, Search: &search}
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), params), nil)
	if len(errs) != 0 || len(ids) != 250 {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	got := p.pages()
	if len(got) != 7 {
		t.Errorf("%d requests, want 7 pages of 40", len(got))
	}
	for i, q := range got {
		if want := fmt.Sprintf("page=%d&page_size=40&search=acme", i+1); !sameQueries([]string{q}, []string{want}) {
			t.Errorf("request %d: %s, want %s", i+1, q, want)
		}
	}
	if params.Page != nil || *params.PageSize != 40 || *params.Search != "acme" || params.PageSize != &size {
		t.Errorf("the caller's params were modified: %+v", params)
	}
}

func TestIterStartsAtTheCallersPage(t *testing.T) {
	p := newPager(t, 250)
	c, _ := pagerClient(t, p)
	page := 2
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), &api.ListCustomersParams{Page: &page}), nil)
	if len(errs) != 0 || !slices.Equal(ids, wantIDs(101, 250)) {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	if got := p.pages(); len(got) != 2 {
		t.Errorf("requests %v", got)
	}
}

func TestIterEmptyList(t *testing.T) {
	p := newPager(t, 0)
	c, _ := pagerClient(t, p)
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if len(ids) != 0 || len(errs) != 0 {
		t.Errorf("%d items, errors %v", len(ids), errs)
	}
	if got := p.pages(); len(got) != 1 {
		t.Errorf("requests %v, want one", got)
	}
}

func TestIterEarlyBreakStopsTheRequests(t *testing.T) {
	p := newPager(t, 1000)
	c, _ := pagerClient(t, p)
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), func(n int) bool { return n == 150 })
	if len(ids) != 150 || len(errs) != 0 {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	if got := p.pages(); len(got) != 2 {
		t.Errorf("requests %v, want pages 1 and 2 only", got)
	}
}

func TestIterErrorOnPage3IsTheLastElement(t *testing.T) {
	p := newPager(t, 500)
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Query().Get("page") == "3" {
			writeJSON(w, 500, `{"detail":"Server Error (500)"}`)
			return
		}
		p.ServeHTTP(w, r)
	})
	c := newHarness(t).client(srv.URL, nil, kelviq.WithRetries(0))
	ids, errs, after := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if !slices.Equal(ids, wantIDs(1, 200)) || len(errs) != 1 || after != 0 {
		t.Fatalf("%d items, errors %v, %d elements after the error", len(ids), errs, after)
	}
	var apiErr *kelviq.Error
	if !errors.As(errs[0], &apiErr) || apiErr.StatusCode != 500 || !errors.Is(errs[0], kelviq.ErrServerError) || !strings.Contains(errs[0].Error(), "page 3") {
		t.Errorf("got %v", errs[0])
	}
	if got := srv.requests(); len(got) != 3 {
		t.Errorf("the server saw %d requests, want 3 (nothing after the error)", len(got))
	}
}

// A server that ignores the page number answers page 1 forever: the
// iterator notices at page 2, yields nothing twice, and stops.
func TestIterStopsOnARepeatedPage(t *testing.T) {
	p := newPager(t, 1000)
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		r.URL.RawQuery = "page_size=100"
		p.ServeHTTP(w, r)
	})
	c := newHarness(t).client(srv.URL, nil)
	ids, errs, after := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if !slices.Equal(ids, wantIDs(1, 100)) || len(errs) != 1 || after != 0 || !errors.Is(errs[0], kelviq.ErrPaginationLoop) {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// Pages that never add up to the count end with ErrPaginationLoop once
// there are more pages than the count allows.
func TestIterStopsWhenPagesOutnumberTheCount(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		page := atoi(r.URL.Query().Get("page"), 1)
		k := 1
		if page == 1 {
			k = 100
		}
		items := make([]string, k)
		for i := range items {
			items[i] = fmt.Sprintf(`{"customerId":"cus_%d_%d"}`, page, i)
		}
		writeJSON(w, 200, fmt.Sprintf(`{"count":250,"next":"http://x/?page=%d","previous":null,"results":[%s]}`, page+1, strings.Join(items, ",")))
	})
	c := newHarness(t).client(srv.URL, nil)
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if len(errs) != 1 || !errors.Is(errs[0], kelviq.ErrPaginationLoop) {
		t.Fatalf("%d items, errors %v", len(ids), errs)
	}
	// 250 items at 100 a page is 3 pages; one more is allowed.
	if n := len(srv.requests()); n != 4 || len(ids) != 103 {
		t.Errorf("%d requests and %d items, want 4 and 103", n, len(ids))
	}
}

func TestIterStopsWhenNextIsNull(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, `{"count":500,"next":null,"previous":null,"results":[{"customerId":"cus_001"}]}`)
	})
	c := newHarness(t).client(srv.URL, nil)
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if len(ids) != 1 || len(errs) != 0 || len(srv.requests()) != 1 {
		t.Errorf("%d items, errors %v, %d requests", len(ids), errs, len(srv.requests()))
	}
}

// Without count and next, an empty page ends the list.
func TestIterWithoutCountOrNext(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if page := atoi(r.URL.Query().Get("page"), 1); page <= 2 {
			writeJSON(w, 200, fmt.Sprintf(`{"results":[{"customerId":"cus_%03d"}]}`, page))
			return
		}
		writeJSON(w, 200, `{"results":[]}`)
	})
	c := newHarness(t).client(srv.URL, nil)
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if !slices.Equal(ids, wantIDs(1, 2)) || len(errs) != 0 || len(srv.requests()) != 3 {
		t.Errorf("%v, errors %v, %d requests", ids, errs, len(srv.requests()))
	}
}

func TestIterFailsOnAPageThatIsNotJSON(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusNoContent)
	})
	c := newHarness(t).client(srv.URL, nil)
	ids, errs, _ := collect(c.ListCustomersIter(t.Context(), nil), nil)
	if len(ids) != 0 || len(errs) != 1 || !errors.Is(errs[0], kelviq.ErrUnexpectedResponse) {
		t.Errorf("%d items, errors %v", len(ids), errs)
	}
}

func TestIterCancelledContext(t *testing.T) {
	p := newPager(t, 250)
	c, _ := pagerClient(t, p)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	var last error
	for _, err := range c.ListCustomersIter(ctx, nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 100 {
			cancel() // the next page's request fails
		}
	}
	if n != 100 || !errors.Is(last, context.Canceled) {
		t.Errorf("%d items, last error %v", n, last)
	}
	if got := p.pages(); len(got) != 1 {
		t.Errorf("requests %v", got)
	}
}

// Every operation the table marks as paginated has its iterator, and no
// other: the iterators follow the spec, not a hand-written list. Each one
// walks two pages of its own path, with the path parameters in place.
func TestEveryPaginatedOperationHasAnIterator(t *testing.T) {
	var paginated []api.Operation
	for _, op := range api.Operations {
		if op.Paginated {
			paginated = append(paginated, op)
		}
	}
	if len(paginated) < 13 {
		t.Errorf("only %d paginated operations in the table", len(paginated))
	}
	ct := reflect.TypeFor[*kelviq.Client]()
	iters := 0
	for i := range ct.NumMethod() {
		if strings.HasSuffix(ct.Method(i).Name, "Iter") {
			iters++
		}
	}
	if iters != len(paginated) {
		t.Errorf("%d Iter methods for %d paginated operations", iters, len(paginated))
	}

	var mu sync.Mutex
	var paths []string
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		mu.Unlock()
		// Two pages of empty items, which no item type tells apart:
		// different lengths, or the second would repeat the first.
		next, results := `"http://x/?page=2"`, `[{}]`
		if r.URL.Query().Get("page") == "2" {
			next, results = "null", `[{},{}]`
		}
		writeJSON(w, 200, `{"count":3,"next":`+next+`,"previous":null,"results":`+results+`}`)
	})
	c := newHarness(t).client(srv.URL, nil)
	for _, op := range paginated {
		m := reflect.ValueOf(c).MethodByName(op.GoName + "Iter")
		if !m.IsValid() {
			t.Errorf("%s: no method %sIter", op.ID, op.GoName)
			continue
		}
		mt := m.Type()
		args := []reflect.Value{reflect.ValueOf(t.Context())}
		for i := 1; i < mt.NumIn()-2; i++ { // path parameters
			args = append(args, reflect.ValueOf(fmt.Sprintf("p%d", i)).Convert(mt.In(i)))
		}
		args = append(args, reflect.Zero(mt.In(mt.NumIn()-2))) // nil params
		seq := m.Call(args)[0]
		items := 0
		yield := reflect.MakeFunc(seq.Type().In(0), func(in []reflect.Value) []reflect.Value {
			if !in[1].IsNil() {
				t.Errorf("%s: %v", op.ID, in[1].Interface())
			}
			items++
			return []reflect.Value{reflect.ValueOf(true)}
		})
		mu.Lock()
		paths = nil
		mu.Unlock()
		seq.Call([]reflect.Value{yield})
		mu.Lock()
		if items != 3 || len(paths) != 2 {
			t.Errorf("%s: %d items from %d requests, want 3 and 2", op.ID, items, len(paths))
		}
		for i, p := range paths {
			path, query, _ := strings.Cut(p, "?")
			if !matchTemplate(op.Path, path) || !sameQueries([]string{query}, []string{fmt.Sprintf("page=%d&page_size=100", i+1)}) {
				t.Errorf("%s: request %s, want %s with page %d", op.ID, p, op.Path, i+1)
			}
		}
		mu.Unlock()
	}
}

// matchTemplate reports whether path is template with every {parameter}
// replaced by a non-empty segment.
func matchTemplate(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, seg := range ts {
		if strings.HasPrefix(seg, "{") {
			if ps[i] == "" {
				return false
			}
		} else if seg != ps[i] {
			return false
		}
	}
	return true
}

// sameQueries compares query strings by their values, in any order.
func sameQueries(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, err1 := url.ParseQuery(got[i])
		w, err2 := url.ParseQuery(want[i])
		if err1 != nil || err2 != nil || !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}
