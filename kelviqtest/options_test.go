package kelviqtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

func newClient(t *testing.T, srv *Server) *kelviq.Client {
	t.Helper()
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(ServerKey), kelviq.WithPartnerKey(PartnerKey))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWithResponse(t *testing.T) {
	srv := NewServer(t,
		WithResponse("listCustomers", 200, map[string]any{
			"count": 1, "next": nil, "previous": nil,
			"results": []map[string]any{{"customerId": "override-1", "email": "o@example.com"}},
		}),
		WithResponse("retrieveSubscription", 404, nil), // the spec's 404 example
		WithResponse("retrieveOrder", 418, nil),        // undeclared: {"detail": …}
		WithResponse("createCustomer", 0, `{"customerId":"raw"}`),
	)
	c := newClient(t, srv)
	ctx := context.Background()

	list, err := c.ListCustomersWithResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if list.JSON200 == nil || len(list.JSON200.Results) != 1 || *list.JSON200.Results[0].CustomerID != "override-1" {
		t.Fatalf("listCustomers: %s", list.Body)
	}

	res, body := do(t, srv, "GET", "/subscriptions/dffaf07e-4517-47db-ba3a-59a05aa2d465/", "", bearer(ServerKey))
	if res.StatusCode != 404 || strings.TrimSpace(string(body)) != `{"detail":"Subscription not found."}` {
		t.Errorf("retrieveSubscription: %d %s", res.StatusCode, body)
	}
	res, body = do(t, srv, "GET", "/orders/ord_1/", "", bearer(ServerKey))
	if res.StatusCode != 418 || errorMessage(body) != "I'm a teapot" {
		t.Errorf("retrieveOrder: %d %s", res.StatusCode, body)
	}
	res, body = do(t, srv, "POST", "/customers/", `{"customerId":"c"}`, bearer(ServerKey))
	if res.StatusCode != 201 || string(body) != `{"customerId":"raw"}` || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("createCustomer: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	// An override answers only requests that pass the checks.
	res, body = do(t, srv, "GET", "/customers/?page_size=0", "", bearer(ServerKey))
	if res.StatusCode != 400 {
		t.Errorf("invalid request to an overridden operation: %d %s", res.StatusCode, body)
	}
}

// WithResponseFunc answers per request: here three pages, by the page
// parameter, the way kelviq pages lists.
func TestWithResponseFunc(t *testing.T) {
	var srv *Server
	srv = NewServer(t, WithResponseFunc("listCustomers", func(r *http.Request) Response {
		page := r.URL.Query().Get("page")
		if page == "" {
			page = "1"
		}
		var next any
		if page != "3" {
			n := map[string]string{"1": "2", "2": "3"}[page]
			next = srv.URL + "/customers/?page=" + n
		}
		return Response{Body: map[string]any{
			"count": 3, "next": next, "previous": nil,
			"results": []map[string]any{{"customerId": "cust_" + page}},
		}}
	}))
	c := newClient(t, srv)
	var got []string
	for page := 1; ; page++ {
		res, err := c.ListCustomersWithResponse(context.Background(), &api.ListCustomersParams{Page: &page})
		if err != nil {
			t.Fatal(err)
		}
		for _, cust := range res.JSON200.Results {
			got = append(got, *cust.CustomerID)
		}
		if res.JSON200.Next.IsNull() || !res.JSON200.Next.IsSpecified() {
			break
		}
	}
	if want := []string{"cust_1", "cust_2", "cust_3"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestFaultTimes(t *testing.T) {
	srv := NewServer(t, WithFault("listCustomers", Fault{
		Status: 503, Header: http.Header{"Retry-After": {"0"}}, Times: 2,
	}))
	var got []int
	for range 4 {
		res, body := do(t, srv, "GET", "/customers/", "", bearer(ServerKey))
		got = append(got, res.StatusCode)
		if res.StatusCode == 503 && (res.Header.Get("Retry-After") != "0" || errorMessage(body) != "Service Unavailable") {
			t.Errorf("fault response: %v %s", res.Header, body)
		}
	}
	if want := []int{503, 503, 200, 200}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	// A request that fails the checks does not use up the fault.
	srv = NewServer(t, WithFault(AnyOperation, Fault{Status: 500, Times: 1}))
	if res, _ := do(t, srv, "GET", "/customers/", "", nil); res.StatusCode != 401 {
		t.Fatalf("unauthenticated request: %d", res.StatusCode)
	}
	if res, _ := do(t, srv, "GET", "/orders/", "", bearer(ServerKey)); res.StatusCode != 500 {
		t.Fatalf("first valid request: %d", res.StatusCode)
	}
	if res, _ := do(t, srv, "GET", "/orders/", "", bearer(ServerKey)); res.StatusCode != 200 {
		t.Fatalf("second valid request: %d", res.StatusCode)
	}
}

func TestFaultDelay(t *testing.T) {
	const delay = 30 * time.Millisecond
	srv := NewServer(t, WithFault("listOrders", Fault{Delay: delay}))
	res, _ := do(t, srv, "GET", "/orders/", "", bearer(ServerKey))
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	// A lower bound only: the fake waits at least the delay.
	if d := lastRequest(t, srv.Handler, "listOrders").Duration; d < delay {
		t.Fatalf("answered after %v, before the %v delay", d, delay)
	}
}

// A client that gives up during a delay ends it: the fake answers nothing
// and records why.
func TestFaultDelayCancelled(t *testing.T) {
	done := make(chan Request, 1)
	h, err := NewHandler(
		WithFault("listOrders", Fault{Delay: time.Hour, Status: 500}),
		WithObserver(func(r Request) { done <- r }),
	)
	if err != nil {
		t.Fatal(err)
	}
	arrived := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := newClient(t, &Server{URL: ts.URL, Handler: h})

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.ListOrdersWithResponse(ctx, nil)
		errc <- err
	}()
	<-arrived // the request is in the fake, held for an hour
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	r := <-done // the fake gave up the delay too
	if r.OperationID != "listOrders" || r.Problem != "the client gave up during an injected delay" || r.Status != 0 {
		t.Fatalf("recorded %+v", r)
	}
}

func TestRequestsAndObserver(t *testing.T) {
	var observed []Request
	obs := make(chan Request, 10)
	srv := NewServer(t, WithObserver(func(r Request) { obs <- r }))
	c := newClient(t, srv)
	ctx := context.Background()

	if _, err := c.ReportUsageWithResponse(ctx, api.ReportUsageJSONRequestBody{
		Behaviour: api.ReportUsageRequestBehaviourDELTA, CustomerID: "cust_1", FeatureID: "seats", Value: 3,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListPartnerOrganizationsWithResponse(ctx, nil); err != nil {
		t.Fatal(err)
	}
	do(t, srv, "GET", "/customers/", "", nil)

	reqs := srv.Requests()
	for range 3 {
		observed = append(observed, <-obs)
	}
	if len(reqs) != 3 {
		t.Fatalf("%d requests recorded, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.OperationID != observed[i].OperationID || r.Status != observed[i].Status {
			t.Errorf("request %d: recorded %s %d, observed %s %d", i, r.OperationID, r.Status, observed[i].OperationID, observed[i].Status)
		}
	}

	usage := reqs[0]
	var body map[string]any
	if err := json.Unmarshal(usage.Body, &body); err != nil {
		t.Fatal(err)
	}
	if usage.OperationID != "reportUsage" || usage.Method != "POST" || usage.Path != "/report/usage/" ||
		usage.Status != 200 || usage.Problem != "" || body["behaviour"] != "DELTA" ||
		!slices.Equal(usage.Credentials, []string{"bearerAuth"}) || usage.Header.Get("Authorization") != "Bearer "+ServerKey {
		t.Errorf("reportUsage recorded as %+v", usage)
	}
	if r := reqs[1]; r.OperationID != "listPartnerOrganizations" || !slices.Equal(r.Credentials, []string{"partnerKeyAuth"}) {
		t.Errorf("listPartnerOrganizations recorded as %+v", r)
	}
	if r := reqs[2]; r.Status != 401 || r.Problem == "" || len(r.Credentials) != 0 {
		t.Errorf("unauthenticated request recorded as %+v", r)
	}
}

func TestWithoutRecording(t *testing.T) {
	srv := NewServer(t, WithoutRecording())
	do(t, srv, "GET", "/customers/", "", bearer(ServerKey))
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests recorded", n)
	}
}

func TestInvalidOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"unknown operation":       WithResponse("listCustomer", 200, nil),
		"unknown fault operation": WithFault("nope", Fault{Status: 500}),
		"bad fault status":        WithFault("listCustomers", Fault{Status: 42}),
		"negative times":          WithFault("listCustomers", Fault{Times: -1}),
		"nil response function":   WithResponseFunc("listCustomers", nil),
	} {
		if _, err := NewHandler(opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Requests returns copies: a caller (or an observer) that changes what it
// got, maps and slices included, does not change what the fake recorded.
func TestRequestsAreCopies(t *testing.T) {
	srv := NewServer(t, WithObserver(func(r Request) {
		// An observer redacting before it logs.
		r.Header.Set("Authorization", "redacted")
		r.Body[0] = '!'
	}))
	mustSend(t, srv, 201, "POST", "/customers/?a=b", map[string]any{"customerId": "cust_1"})
	got := srv.Requests()
	got[0].Body[0] = 'X'
	got[0].Query.Set("a", "changed")
	got[0].Header.Set("X-Changed", "1")
	got[0].Credentials[0] = "changed"
	r := srv.Requests()[0]
	if string(r.Body) != `{"customerId":"cust_1"}` || r.Query.Get("a") != "b" || r.Header.Get("X-Changed") != "" ||
		r.Header.Get("Authorization") != "Bearer "+ServerKey || !slices.Equal(r.Credentials, []string{"bearerAuth"}) {
		t.Fatalf("recorded request changed through a copy: %+v", r)
	}
}

// Regression: a delay cut short by the server (its base context ending,
// as kelviq-mock's does when it stops) returned having written nothing,
// and net/http sent the client still waiting a 200 with no body. Now the
// connection is closed, and the record says why.
func TestFaultDelayCutByServer(t *testing.T) {
	h, err := NewHandler(WithFault("listOrders", Fault{Delay: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	base, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	arrived := make(chan struct{})
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		h.ServeHTTP(w, r)
	}))
	ts.Config.BaseContext = func(net.Listener) context.Context { return base }
	ts.Start()
	defer ts.Close()
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", ts.URL+"/orders/", nil)
		req.Header.Set("Authorization", "Bearer "+ServerKey)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			err = fmt.Errorf("answered %d", res.StatusCode)
		} else {
			err = nil
		}
		errc <- err
	}()
	<-arrived
	stop(errors.New("the server is stopping"))
	if err := <-errc; err != nil {
		t.Fatalf("the cut request: %v, want the connection closed", err)
	}
	r := h.Requests()[0]
	if r.Status != 0 || r.Problem != "an injected delay was cut short: the server is stopping" {
		t.Fatalf("recorded %+v", r)
	}
}
