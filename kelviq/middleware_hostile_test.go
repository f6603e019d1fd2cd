package kelviq_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// A middleware that returns a response and an error at the attempt level:
// the response is closed (net/http would drop it open), the error is the
// call's.
func TestMiddlewareAttemptResponseAndError(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	var closed atomic.Bool
	both := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
		if op.Attempt == 0 {
			return next(req)
		}
		resp, err := next(req)
		if err != nil {
			return nil, err
		}
		resp.Body = closeNoter{resp.Body, &closed}
		return resp, errBoth
	}
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithRetries(0), kelviq.WithMiddleware(both))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.ListCustomersWithResponse(context.Background(), nil); err == nil || !strings.Contains(err.Error(), errBoth.Error()) {
		t.Errorf("got %v, want the middleware's error", err)
	}
	if !closed.Load() {
		t.Error("the response returned beside the error was left open")
	}
}

var errBoth = errors.New("the middleware's own error")

type closeNoter struct {
	rc interface {
		Read([]byte) (int, error)
		Close() error
	}
	closed *atomic.Bool
}

func (c closeNoter) Read(p []byte) (int, error) { return c.rc.Read(p) }
func (c closeNoter) Close() error               { c.closed.Store(true); return c.rc.Close() }

// A middleware that sends the request to another host, at either level,
// is refused before anything is sent: the request carries the operation's
// key, which the redirect policy keeps on kelviq's host, and a middleware
// is below that policy.
func TestMiddlewareOffOriginRefused(t *testing.T) {
	var reached atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), testServerKey) {
			t.Error("the server key reached another host")
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer evil.Close()
	eu, err := url.Parse(evil.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []string{"call", "attempt", "call in place", "attempt in place"} {
		t.Run(level, func(t *testing.T) {
			srv := kelviqtest.NewServer(t)
			away := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
				if strings.HasPrefix(level, "call") != (op.Attempt == 0) {
					return next(req)
				}
				if strings.HasSuffix(level, "in place") {
					// What the doc forbids, and a careless one does.
					req.URL.Host, req.Host = eu.Host, ""
					return next(req)
				}
				r := req.Clone(req.Context())
				r.URL.Host, r.Host = eu.Host, ""
				return next(r)
			}
			c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithMiddleware(away))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListCustomersWithResponse(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), "listCustomers") || !strings.Contains(err.Error(), "another scheme or host") {
				t.Errorf("got %v, want a refusal naming listCustomers", err)
			}
			if err != nil && strings.Contains(err.Error(), testServerKey) {
				t.Error("the error holds the server key")
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the other host got %d requests, want 0", n)
	}
}

// A middleware's own response at the call level (a cache's, a stub's) is
// judged as the server's would be: one without a JSON Content-Type gave a
// nil JSON200 with a nil error, and a 404 of its own was an "unexpected
// response" instead of the *Error of a 404.
func TestMiddlewareOwnResponseIsJudged(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	for _, tc := range []struct {
		name   string
		status int
		ct     string
		check  func(error) bool
	}{
		{"200 without Content-Type", http.StatusOK, "", func(err error) bool { return errors.Is(err, kelviq.ErrUnexpectedResponse) }},
		{"404", http.StatusNotFound, "application/json", func(err error) bool { return errors.Is(err, kelviq.ErrNotFound) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			own := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
				if op.Attempt > 0 {
					return next(req)
				}
				h := http.Header{}
				if tc.ct != "" {
					h.Set("Content-Type", tc.ct)
				}
				return &http.Response{StatusCode: tc.status, Header: h, Body: io.NopCloser(strings.NewReader(`{"detail":"x"}`)), ContentLength: -1, Request: req}, nil
			}
			c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithMiddleware(own))
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.ListCustomersWithResponse(context.Background(), nil)
			if err == nil {
				t.Fatalf("nil error, JSON200 %v", res.JSON200)
			}
			if !tc.check(err) || !strings.Contains(err.Error(), "listCustomers") {
				t.Errorf("got %v", err)
			}
		})
	}
}

// A hedging middleware, calling next twice at once and keeping the first
// answer, is a race on nothing of the client's (go test -race).
func TestMiddlewareHedgingIsRaceFree(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	hedge := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
		if op.Attempt > 0 {
			return next(req)
		}
		type answer struct {
			resp *http.Response
			err  error
		}
		answers := make(chan answer, 2)
		for range 2 {
			go func() {
				resp, err := next(req.Clone(req.Context()))
				answers <- answer{resp, err}
			}()
		}
		first := <-answers
		go func() {
			if second := <-answers; second.resp != nil {
				_ = second.resp.Body.Close()
			}
		}()
		return first.resp, first.err
	}
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithMiddleware(hedge))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		res, err := c.ListCustomersWithResponse(context.Background(), nil)
		if err != nil || res.JSON200 == nil {
			t.Fatalf("got %v", err)
		}
	}
}
