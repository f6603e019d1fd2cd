package kelviqtest

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/kelviq"
)

// statuses sends GET path n times and returns the statuses.
func statuses(t *testing.T, srv *Server, path string, n int) []int {
	t.Helper()
	var out []int
	for range n {
		res, _ := do(t, srv, "GET", path, "", bearer(ServerKey))
		out = append(out, res.StatusCode)
	}
	return out
}

// Faults change while the fake runs: SetFault, AnyOperation, ClearFaults.
func TestSetFaultAtRunTime(t *testing.T) {
	srv := NewServer(t)
	if got := statuses(t, srv, "/customers/", 1); got[0] != 200 {
		t.Fatalf("before the fault: %v", got)
	}
	if err := srv.SetFault("listCustomers", Fault{Status: 503, Times: 2, RetryAfter: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	res, body := do(t, srv, "GET", "/customers/", "", bearer(ServerKey))
	if res.StatusCode != 503 || res.Header.Get("Retry-After") != "2" || errorMessage(body) != "Service Unavailable" {
		t.Fatalf("fault: %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if got := statuses(t, srv, "/customers/", 2); !slices.Equal(got, []int{503, 200}) {
		t.Fatalf("after the first fault: %v, want [503 200]", got)
	}

	// Setting a fault again starts its count afresh.
	if err := srv.SetFault("listCustomers", Fault{Status: 429, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFault(AnyOperation, Fault{Status: 500}); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, srv, "/customers/", 2); !slices.Equal(got, []int{429, 500}) {
		t.Fatalf("own fault, then AnyOperation's: %v", got)
	}
	if got := statuses(t, srv, "/orders/", 1); got[0] != 500 {
		t.Fatalf("AnyOperation: %v", got)
	}
	srv.ClearFaults()
	if got := statuses(t, srv, "/orders/", 1); got[0] != 200 {
		t.Fatalf("after ClearFaults: %v", got)
	}

	for _, tc := range []struct {
		op   string
		f    Fault
		want string
	}{
		{"ListCustomers", Fault{Status: 503}, `the spec has no operation "ListCustomers"; did you mean "listCustomers"?`},
		{"listCustomers", Fault{Status: 42}, "status 42 is not an HTTP status"},
		{"listCustomers", Fault{RetryAfter: -time.Second}, "negative"},
		// Regression: a 1xx went out as an interim response followed by
		// an empty 200; bad headers were dropped or rewritten by net/http
		// unseen; a Content-Length of the fault's left a cut body.
		{"listCustomers", Fault{Status: 100}, "status 100 is an interim (1xx) status"},
		{"listCustomers", Fault{Status: 503, Header: http.Header{"X\r\nInjected": {"v"}}}, `header name "X\r\nInjected" is not a valid`},
		{"listCustomers", Fault{Status: 503, Header: http.Header{"X-A": {"v\r\nInjected: yes"}}}, "header X-A: a value holds a line break"},
		{"listCustomers", Fault{Status: 503, Header: http.Header{"Content-Length": {"999"}}}, "header Content-Length is set by the fake"},
		{"listCustomers", Fault{Status: 503, Header: http.Header{"transfer-encoding": {"chunked"}}}, "header Transfer-Encoding is set by the fake"},
	} {
		if err := srv.SetFault(tc.op, tc.f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetFault(%q, %+v): %v, want %q", tc.op, tc.f, err, tc.want)
		}
	}
}

// A fault given as an option, seen through the client: its retry of the
// 503 (with Retry-After: 0) gets the normal answer.
func TestFaultOptionThroughClient(t *testing.T) {
	srv := NewServer(t, WithSeed(strings.NewReader(`{"customers":[{"customerId":"cust_1"}]}`)),
		WithFault("listCustomers", Fault{Status: 503, Times: 1, Header: http.Header{"Retry-After": {"0"}}}))
	res, err := newClient(t, srv).ListCustomersWithResponse(context.Background(), nil)
	if err != nil || len(res.JSON200.Results) != 1 {
		t.Fatalf("list: %v", err)
	}
	var got []int
	for _, r := range srv.Requests() {
		got = append(got, r.Status)
	}
	if !slices.Equal(got, []int{503, 200}) {
		t.Fatalf("statuses served %v, want [503 200]", got)
	}
}

// A dropped connection reaches the client as a transport error, not a
// status; the fake records it.
func TestFaultDropConnection(t *testing.T) {
	srv := NewServer(t, WithFault("createCustomer", Fault{DropConnection: true, Times: 1}))
	c := newClient(t, srv)
	_, err := c.CreateCustomerWithBodyWithResponse(context.Background(), "application/json", strings.NewReader(`{"customerId":"cust_1"}`))
	var kerr *kelviq.Error
	if err == nil || errors.As(err, &kerr) {
		t.Fatalf("err %v, want a transport error", err)
	}
	r := srv.Requests()[0]
	if r.OperationID != "createCustomer" || r.Status != 0 || r.Problem != "the connection was dropped by an injected fault" {
		t.Fatalf("recorded %+v", r)
	}
	// The dropped request changed nothing; the next one works.
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "cust_1"})
}

// Requests records what a test asserts on: operation, method, path,
// query, body and the kind of credential.
func TestRequestsRecordStatefulCalls(t *testing.T) {
	srv := NewServer(t)
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "cust_1"})
	mustSend(t, srv, 200, "GET", "/customers/?search=cust&page_size=5", nil)
	mustSend(t, srv, 201, "POST", "/partner/organizations/", map[string]any{"externalId": "e", "email": "o@example.com"})
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	if r := reqs[0]; r.OperationID != "createCustomer" || r.Method != "POST" || r.Path != "/customers/" || string(r.Body) != `{"customerId":"cust_1"}` || !slices.Equal(r.Credentials, []string{"bearerAuth"}) || r.Status != 201 {
		t.Errorf("create recorded as %+v", r)
	}
	if r := reqs[1]; r.OperationID != "listCustomers" || r.Query.Get("search") != "cust" || r.Query.Get("page_size") != "5" {
		t.Errorf("list recorded as %+v", r)
	}
	if r := reqs[2]; r.OperationID != "provisionPartnerOrganization" || !slices.Equal(r.Credentials, []string{"partnerKeyAuth"}) {
		t.Errorf("provision recorded as %+v", r)
	}
}

// Bodies over the limit are answered 413 with a JSON error, whether the
// size is declared (Content-Length) or found while reading (chunked).
func TestBodyLimit(t *testing.T) {
	srv := NewServer(t, WithMaxBodyBytes(100))
	small := `{"customerId":"c"}`
	big := `{"customerId":"` + strings.Repeat("x", 200) + `"}`
	for _, tc := range []struct {
		name    string
		body    io.Reader
		chunked bool
		want    int
	}{
		{"declared", strings.NewReader(big), false, 413},
		{"chunked", strings.NewReader(big), true, 413},
		{"under the limit", strings.NewReader(small), false, 201},
	} {
		body := tc.body
		if tc.chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		req, _ := http.NewRequest("POST", srv.URL+"/customers/", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ServerKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, data, tc.want)
		}
		if tc.want == 413 && (res.Header.Get("Content-Type") != "application/json" || errorMessage(data) != "Request body too large: the limit is 100 bytes.") {
			t.Errorf("%s: 413 body %s (%s)", tc.name, data, res.Header.Get("Content-Type"))
		}
	}
	if reqs := srv.Requests(); reqs[0].Status != 413 || reqs[0].Problem != "the request body is larger than 100 bytes" {
		t.Errorf("recorded %+v", reqs[0])
	}

	// The default is 1 MiB.
	def := NewServer(t)
	res, _ := do(t, def, "POST", "/customers/", `{"customerId":"`+strings.Repeat("x", DefaultMaxBodyBytes)+`"}`, bearer(ServerKey))
	if res.StatusCode != 413 {
		t.Errorf("over 1 MiB: %d", res.StatusCode)
	}
	if _, err := NewHandler(WithMaxBodyBytes(0)); err == nil {
		t.Error("WithMaxBodyBytes(0): no error")
	}
	// Regression: a limit near MaxInt64 was taken, and every request with
	// a body then panicked (makeslice: cap out of range).
	for _, n := range []int64{math.MaxInt64, 1<<30 + 1} {
		if _, err := NewHandler(WithMaxBodyBytes(n)); err == nil || !strings.Contains(err.Error(), "the limit is at most 1073741824 (1 GiB)") {
			t.Errorf("WithMaxBodyBytes(%d): %v", n, err)
		}
	}
	if _, err := NewHandler(WithMaxBodyBytes(1 << 30)); err != nil {
		t.Errorf("WithMaxBodyBytes(1 GiB): %v", err)
	}
}

// When the memory budget for bodies is spent (by slow uploads), a body
// that needs more than the free part waits, then is answered 503; small
// bodies are not held up, and the budget comes back after each request.
func TestBodyBudget(t *testing.T) {
	h, err := NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	h.budgetWait = 20 * time.Millisecond
	post := func(n int) int {
		body := `{"customerId":"` + strings.Repeat("x", n) + `"}`
		req := httptest.NewRequest("POST", "/customers/", io.MultiReader(strings.NewReader(body)))
		req.Header.Set("Authorization", "Bearer "+ServerKey)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := post(200 << 10); got != 400 && got != 201 {
		t.Fatalf("a 200 KiB body with the budget free: %d", got)
	}
	if !h.budget.TryAcquire(h.budgetSize) { // spent by others
		t.Fatalf("budget still held after the request")
	}
	if got := post(200 << 10); got != 503 {
		t.Errorf("a 200 KiB body with the budget spent: %d, want 503", got)
	}
	if got := post(10); got != 201 {
		t.Errorf("a small body with the budget spent: %d, want 201", got)
	}
}

// Regression: uploads took their budget a unit at a time and waited
// holding what they had. Many at once, the units freed by those that
// finished went one each to the waiting ones, until every one held part
// of what it needed, the budget was spent, and all waited for one another
// until they were answered 503. Now each takes all it needs in one step:
// they queue, and all get through.
func TestBodyBudgetManyUploads(t *testing.T) {
	h, err := NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	h.budgetWait = time.Minute                     // a deadlock shows as a stuck upload, not a 503
	const n = 8 * bodyBudget / DefaultMaxBodyBytes // eight budgets' worth
	gate := make(chan struct{})                    // holds the first bodies until all have arrived
	codes := make(chan int, n)
	for range n {
		go func() {
			body := &gatedReader{gate: gate, r: strings.NewReader(strings.Repeat("x", DefaultMaxBodyBytes))}
			req := httptest.NewRequest("POST", "/customers/", body)
			req.ContentLength = DefaultMaxBodyBytes
			req.Header.Set("Authorization", "Bearer "+ServerKey)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			codes <- rec.Code
		}()
	}
	time.Sleep(200 * time.Millisecond) // all arrive: some read, the others wait for budget
	close(gate)
	for range n {
		select {
		case code := <-codes:
			if code != 400 { // not JSON: refused once read, quickly
				t.Fatalf("an upload got %d, want 400", code)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("uploads wait for one another: the budget is deadlocked")
		}
	}
	if !h.budget.TryAcquire(h.budgetSize) {
		t.Fatal("budget still held after every upload was answered")
	}
}

// gatedReader reads r once gate is closed.
type gatedReader struct {
	gate <-chan struct{}
	r    io.Reader
}

func (g *gatedReader) Read(p []byte) (int, error) {
	<-g.gate
	return g.r.Read(p)
}

// Regression: a limit over the budget (WithMaxBodyBytes, kelviq-mock
// -max-body) left bodies the budget could never hold: on an idle fake they
// waited, then were answered 503, whatever their size under the limit.
func TestBodyLimitOverTheBudget(t *testing.T) {
	h, err := NewHandler(WithMaxBodyBytes(2 * bodyBudget))
	if err != nil {
		t.Fatal(err)
	}
	h.budgetWait = 50 * time.Millisecond
	for _, chunked := range []bool{false, true} {
		// Not JSON: refused with 400 once read, quickly.
		var body io.Reader = strings.NewReader(strings.Repeat("x", bodyBudget+bodyUnit))
		if chunked {
			body = io.MultiReader(body)
		}
		req := httptest.NewRequest("POST", "/customers/", body)
		req.Header.Set("Authorization", "Bearer "+ServerKey)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Errorf("chunked %v: a body under the limit answered %d %s, want 400", chunked, rec.Code, rec.Body)
		}
	}
}

// A dropped connection is seen even on a reused keep-alive connection,
// where Go's Transport resends an idempotent request by itself when the
// server closes before answering anything; and by the time the client sees
// the error, the fake has recorded the request.
func TestFaultDropOnKeepAlive(t *testing.T) {
	srv := NewServer(t)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	get := func() error {
		req, err := http.NewRequest("GET", srv.URL+"/orders/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+ServerKey)
		res, err := cl.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	for i := range 20 {
		if err := get(); err != nil { // opens or reuses the connection
			t.Fatal(err)
		}
		if err := srv.SetFault("listOrders", Fault{DropConnection: true, Times: 1}); err != nil {
			t.Fatal(err)
		}
		if err := get(); err == nil {
			t.Fatalf("round %d: the dropped request succeeded (resent by the transport)", i)
		}
		reqs := srv.Requests()
		if n := len(reqs); n != 2*(i+1) || reqs[n-1].Problem != "the connection was dropped by an injected fault" {
			t.Fatalf("round %d: recorded %d requests, last %+v", i, n, reqs[n-1])
		}
	}
}

// The limit is exact: a body of the limit's size is read, one byte more is
// 413, declared or chunked.
func TestBodyLimitBoundary(t *testing.T) {
	const limit = 100
	srv := NewServer(t, WithMaxBodyBytes(limit))
	for i, chunked := range []bool{false, true} {
		for _, size := range []int{limit, limit + 1} {
			id := strings.Repeat(string(rune('a'+i)), size-len(`{"customerId":""}`))
			var body io.Reader = strings.NewReader(`{"customerId":"` + id + `"}`)
			if chunked {
				body = io.MultiReader(body)
			}
			req, _ := http.NewRequest("POST", srv.URL+"/customers/", body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ServerKey)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := 201
			if size > limit {
				want = 413
			}
			if res.StatusCode != want {
				t.Errorf("chunked %v, %d bytes: %d %s, want %d", chunked, size, res.StatusCode, data, want)
			}
		}
	}
}

// Retry-After is RetryAfter in whole seconds rounded up, for any duration.
// Regression: near the longest duration the rounding overflowed and sent
// a negative Retry-After.
func TestFaultRetryAfterRounding(t *testing.T) {
	srv := NewServer(t)
	for d, want := range map[time.Duration]string{
		time.Second:                   "1",
		time.Second + time.Nanosecond: "2",
		time.Millisecond:              "1",
		time.Duration(math.MaxInt64):  "9223372037",
		time.Duration(math.MaxInt64/time.Second) * time.Second: "9223372036",
	} {
		if err := srv.SetFault("listOrders", Fault{Status: 503, RetryAfter: d}); err != nil {
			t.Fatal(err)
		}
		if res, _ := do(t, srv, "GET", "/orders/", "", bearer(ServerKey)); res.Header.Get("Retry-After") != want {
			t.Errorf("RetryAfter %v: Retry-After %q, want %q", d, res.Header.Get("Retry-After"), want)
		}
	}
}
