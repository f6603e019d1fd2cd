package kelviq_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// fastRetries keeps the waits between retries short, so tests do not sleep.
var fastRetries = kelviq.WithRetryPolicy(kelviq.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})

// mwRecorder is a middleware that writes down each time it runs.
type mwRecorder struct {
	mu     sync.Mutex
	name   string
	events []string
	ops    []kelviq.Operation
}

func (r *mwRecorder) middleware(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
	resp, err := next(req)
	outcome := "error"
	if resp != nil {
		outcome = fmt.Sprint(resp.StatusCode)
	}
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf("%s%d:%s", r.name, op.Attempt, outcome))
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return resp, err
}

// Two middlewares, a call retried twice: each runs once for the call
// (Attempt 0, seeing the final answer) and once per attempt (seeing each
// 503), the first given outermost.
func TestMiddlewareLevelsAndOrder(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListCustomers, kelviqtest.Fault{Status: http.StatusServiceUnavailable, Times: 2}))
	var order []string
	var mu sync.Mutex
	trace := func(name string) kelviq.Middleware {
		return func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
			mu.Lock()
			order = append(order, fmt.Sprintf("%s%d", name, op.Attempt))
			mu.Unlock()
			return next(req)
		}
	}
	a := &mwRecorder{name: "a"}
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), fastRetries,
		kelviq.WithMiddleware(trace("A")), kelviq.WithMiddleware(trace("B")), kelviq.WithMiddleware(a.middleware))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomersWithResponse(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, " "), "A0 B0 A1 B1 A2 B2 A3 B3"; got != want {
		t.Errorf("middlewares ran as %q, want %q", got, want)
	}
	if got, want := strings.Join(a.events, " "), "a1:503 a2:503 a3:200 a0:200"; got != want {
		t.Errorf("the last middleware saw %q, want %q", got, want)
	}
	want := kelviq.Operation{ID: "listCustomers", Method: "GET", PathTemplate: "/customers/", Credential: kelviq.CredentialServerKey}
	for _, op := range a.ops {
		op.Attempt = 0
		if op != want {
			t.Errorf("operation %+v, want %+v", op, want)
		}
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("the server got %d requests, want 3", n)
	}
}

// The attempt level runs before the retry decision: a middleware that
// answers 200 in place of a 503 stops the retries.
func TestMiddlewareBeforeRetryDecision(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListCustomers, kelviqtest.Fault{Status: http.StatusServiceUnavailable}))
	replace := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
		resp, err := next(req)
		if op.Attempt > 0 && err == nil && resp.StatusCode == http.StatusServiceUnavailable {
			_ = resp.Body.Close()
			body := `{"count":0,"next":null,"previous":null,"results":[]}`
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
		}
		return resp, err
	}
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), fastRetries, kelviq.WithMiddleware(replace))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ListCustomersWithResponse(context.Background(), nil)
	if err != nil || res.JSON200 == nil {
		t.Fatalf("got %v, %v; want the middleware's answer", res, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("the server got %d requests, want 1: the retry decision did not take the middleware's answer", n)
	}
}

// A call refused after routing (no key for its operation) runs the call
// level once, next returning the refusal, and no attempt; nothing is sent.
// A request of no operation runs no middleware.
func TestMiddlewareRefusedCall(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	rec := &mwRecorder{name: "m"}
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithMiddleware(rec.middleware))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListCustomersWithResponse(context.Background(), nil)
	if !errors.Is(err, kelviq.ErrMissingCredential) {
		t.Fatalf("got %v, want ErrMissingCredential", err)
	}
	if got := strings.Join(rec.events, " "); got != "m0:error" {
		t.Errorf("the middleware saw %q, want one call-level run with the error", got)
	}
	if len(rec.ops) == 1 && (rec.ops[0].ID != "listCustomers" || rec.ops[0].Credential != kelviq.CredentialNone) {
		t.Errorf("operation %+v", rec.ops[0])
	}
	// A request editor moving the call to a path of no operation.
	_, err = c.ListPartnerOrganizationsWithResponse(context.Background(), nil, func(_ context.Context, r *http.Request) error {
		r.URL.Path = "/nowhere/"
		return nil
	})
	if !errors.Is(err, kelviq.ErrUnknownOperation) {
		t.Fatalf("got %v, want ErrUnknownOperation", err)
	}
	if len(rec.events) != 1 {
		t.Errorf("a request of no operation ran the middleware: %q", rec.events)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
}

// The credential kind of a partner operation, and no key in any field of
// an Operation; a context set at the call level reaches every attempt.
func TestMiddlewareOperationAndContext(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListPartnerOrganizations, kelviqtest.Fault{Status: http.StatusBadGateway, Times: 1}))
	type key struct{}
	var seen []kelviq.Operation
	var values []any
	mw := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
		seen = append(seen, op)
		if op.Attempt == 0 {
			return next(req.WithContext(context.WithValue(req.Context(), key{}, "from the call level")))
		}
		values = append(values, req.Context().Value(key{}))
		return next(req)
	}
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey),
		fastRetries, kelviq.WithMiddleware(mw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListPartnerOrganizationsWithResponse(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[0].Credential != kelviq.CredentialPartnerKey || seen[0].PathTemplate != "/partner/organizations/" {
		t.Fatalf("operations %+v", seen)
	}
	for _, op := range seen {
		v := reflect.ValueOf(op)
		for i := range v.NumField() {
			if s := fmt.Sprint(v.Field(i).Interface()); strings.Contains(s, testPartnerKey) || strings.Contains(s, testServerKey) {
				t.Errorf("Operation.%s holds a key", v.Type().Field(i).Name)
			}
		}
	}
	if len(values) != 2 || values[0] != "from the call level" || values[1] != "from the call level" {
		t.Errorf("attempts saw %v, want the call level's context twice", values)
	}
}

func TestWithMiddlewareNil(t *testing.T) {
	_, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithMiddleware(nil))
	if !errors.Is(err, kelviq.ErrInvalidConfig) || !strings.Contains(err.Error(), "WithMiddleware") {
		t.Errorf("got %v, want an ErrInvalidConfig naming WithMiddleware", err)
	}
}

// A middleware that answers nothing fails the call with an error naming it,
// at the call level instead of a nil response reaching the parser, at the
// attempt level instead of the retry transport reading the missing
// response and panicking.
func TestMiddlewareReturningNothing(t *testing.T) {
	for _, level := range []struct {
		name  string
		empty func(op kelviq.Operation) bool
	}{
		{"call", func(op kelviq.Operation) bool { return op.Attempt == 0 }},
		{"attempt", func(op kelviq.Operation) bool { return op.Attempt > 0 }},
	} {
		t.Run(level.name, func(t *testing.T) {
			srv := kelviqtest.NewServer(t)
			nothing := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
				if level.empty(op) {
					return nil, nil
				}
				return next(req)
			}
			c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithMiddleware(nothing))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListCustomersWithResponse(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), "listCustomers") || !strings.Contains(err.Error(), "neither a response nor an error") {
				t.Errorf("got %v, want an error naming listCustomers and the middleware's empty answer", err)
			}
		})
	}
}
