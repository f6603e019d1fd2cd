package kelviq

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// Test hooks, exported to the external tests of this package only (this is
// a _test.go file): they replace the retry transport's clock so that no test
// sleeps for real where it checks a wait.

// WithFakeSleep replaces the retry transport's sleep.
func WithFakeSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) { c.sleep = f }
}

// WithFakeNow replaces the clock Retry-After dates are read against.
func WithFakeNow(f func() time.Time) Option {
	return func(c *config) { c.now = f }
}

// WithFakeJitter replaces the full-jitter draw (uniform in [0, ceiling]).
func WithFakeJitter(f func(ceiling time.Duration) time.Duration) Option {
	return func(c *config) { c.jitter = f }
}

// script is a RoundTripper answering from a list of outcomes, recording the
// requests (and their bodies) it saw.
type script struct {
	mu       sync.Mutex
	outcomes []func(*http.Request) (*http.Response, error)
	seen     []*http.Request
	bodies   []string
}

func (s *script) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, req)
	body := ""
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		_ = req.Body.Close()
		body = string(b)
	}
	s.bodies = append(s.bodies, body)
	i := min(len(s.seen)-1, len(s.outcomes)-1)
	return s.outcomes[i](req)
}

func status(code int, header ...string) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader("x")), ContentLength: 1, Request: req}, nil
	}
}

func fail(err error) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

// fakeClock records the waits and returns at once (or the context's error).
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeClock) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// newTestTransport is a retry transport over s with the default policy, a
// fake sleep and a jitter that always draws the ceiling.
func newTestTransport(s http.RoundTripper, fc *fakeClock, logger *slog.Logger) *retryTransport {
	st := &settings{}
	return &retryTransport{
		next:   s,
		policy: DefaultRetryPolicy(),
		logger: logger,
		ops:    newOpFinder(st),
		clock:  clock{now: time.Now, sleep: fc.sleep, jitter: func(c time.Duration) time.Duration { return c }},
		red:    newRedactor("sk_test_retrysecret"),
	}
}

func newReq(t *testing.T, ctx context.Context, method, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://api.kelviq.com/api/v1/customers/", rd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRetryStatuses(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 408, 409, 422, 428, 429, 500, 501, 502, 503, 504, 505} {
		want := 1
		switch code {
		case 408, 429, 500, 502, 503, 504:
			want = 2
		}
		s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(code), status(200)}}
		fc := &fakeClock{}
		resp, err := newTestTransport(s, fc, nil).RoundTrip(newReq(t, t.Context(), "GET", ""))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.seen) != want {
			t.Errorf("GET answered %d: %d attempts, want %d", code, len(s.seen), want)
		}
		if wantCode := map[bool]int{true: 200, false: code}[want == 2]; resp.StatusCode != wantCode {
			t.Errorf("GET answered %d: got status %d, want %d", code, resp.StatusCode, wantCode)
		}
	}
}

func TestRetryMethods(t *testing.T) {
	for _, tc := range []struct {
		method     string
		idempotent bool // marked with Idempotent()
		want       int
	}{
		{"GET", false, 3}, {"HEAD", false, 3}, {"OPTIONS", false, 3}, {"PUT", false, 3}, {"DELETE", false, 3},
		{"POST", false, 1}, {"PATCH", false, 1},
		{"POST", true, 3}, {"PATCH", true, 3},
	} {
		s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(503)}}
		body := ""
		if tc.method == "POST" || tc.method == "PATCH" || tc.method == "PUT" {
			body = `{"behaviour":"SET","value":3}`
		}
		req := newReq(t, t.Context(), tc.method, body)
		if tc.idempotent {
			if err := Idempotent()(req.Context(), req); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := newTestTransport(s, &fakeClock{}, nil).RoundTrip(req)
		if err != nil || resp.StatusCode != 503 {
			t.Fatalf("%s: %v %v", tc.method, resp, err)
		}
		if len(s.seen) != tc.want {
			t.Errorf("%s (idempotent %v): %d attempts, want %d", tc.method, tc.idempotent, len(s.seen), tc.want)
		}
		for i, b := range s.bodies {
			if b != body {
				t.Errorf("%s attempt %d sent body %q, want %q (replayed)", tc.method, i+1, b, body)
			}
		}
	}
}

// A body that cannot be replayed is not retried, even when marked.
func TestRetryNeedsReplayableBody(t *testing.T) {
	s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(503)}}
	req := newReq(t, t.Context(), "POST", "{}")
	req.GetBody = nil
	_ = Idempotent()(req.Context(), req)
	if _, err := newTestTransport(s, &fakeClock{}, nil).RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if len(s.seen) != 1 {
		t.Errorf("%d attempts, want 1", len(s.seen))
	}
}

func TestRetryNetworkErrors(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name, method string
		err          error
		want         int
	}{
		{"reset GET", "GET", reset, 3},
		{"EOF GET", "GET", io.EOF, 3},
		{"unexpected EOF GET", "GET", io.ErrUnexpectedEOF, 3},
		{"refused GET", "GET", refused, 3},
		{"reset POST", "POST", reset, 1},
		{"EOF POST", "POST", io.EOF, 1},
		{"refused POST: nothing was sent", "POST", refused, 3},
		{"bad certificate", "GET", &url.Error{Op: "Get", Err: x509.UnknownAuthorityError{}}, 1},
		{"no such host", "GET", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, 1},
		{"DNS timeout", "GET", &net.DNSError{Err: "timeout", IsTimeout: true}, 3},
		{"other", "GET", errors.New("unsupported protocol scheme"), 1},
	} {
		s := &script{outcomes: []func(*http.Request) (*http.Response, error){fail(tc.err)}}
		body := ""
		if tc.method == "POST" {
			body = "{}"
		}
		_, err := newTestTransport(s, &fakeClock{}, nil).RoundTrip(newReq(t, t.Context(), tc.method, body))
		if !errors.Is(err, tc.err) && err != tc.err {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
		}
		if len(s.seen) != tc.want {
			t.Errorf("%s: %d attempts, want %d", tc.name, len(s.seen), tc.want)
		}
	}
}

// A done context is never retried: the outcome returns at once.
func TestRetryStopsWhenContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := &script{outcomes: []func(*http.Request) (*http.Response, error){fail(context.Canceled)}}
	fc := &fakeClock{}
	if _, err := newTestTransport(s, fc, nil).RoundTrip(newReq(t, ctx, "GET", "")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if len(s.seen) != 1 || len(fc.got()) != 0 {
		t.Errorf("%d attempts, %d waits; want 1 and 0", len(s.seen), len(fc.got()))
	}
}

// Cancelling during a wait ends the call with the context's error.
func TestRetryWaitIsCancelled(t *testing.T) {
	s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(503)}}
	rt := newTestTransport(s, &fakeClock{}, nil)
	rt.clock.sleep = sleepContext // real sleep, for a long wait
	ctx, cancel := context.WithCancel(t.Context())
	s.outcomes = []func(*http.Request) (*http.Response, error){func(r *http.Request) (*http.Response, error) {
		cancel() // the wait that follows is cut short
		return status(503, "Retry-After", "30")(r)
	}}
	start := time.Now()
	resp, err := rt.RoundTrip(newReq(t, ctx, "GET", ""))
	if !errors.Is(err, context.Canceled) || resp != nil {
		t.Fatalf("got %v, %v; want context.Canceled", resp, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestBackoffIsExponentialCappedAndJittered(t *testing.T) {
	s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(502)}}
	fc := &fakeClock{}
	rt := newTestTransport(s, fc, nil)
	rt.policy.MaxAttempts = 7
	if _, err := rt.RoundTrip(newReq(t, t.Context(), "GET", "")); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	got := fc.got()
	if len(got) != len(want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("wait %d: %v, want %v (the ceiling, as the test's jitter draws it)", i+1, got[i], want[i])
		}
	}
	// The real draw stays within [0, ceiling] and is not constant.
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := fullJitter(time.Second)
		if d < 0 || d > time.Second {
			t.Fatalf("fullJitter(1s) = %v", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Errorf("fullJitter drew only %d distinct waits out of 1000", len(seen))
	}
	if backoff(RetryPolicy{BaseDelay: time.Hour, MaxDelay: 2 * time.Hour}, 1000) != 2*time.Hour {
		t.Error("backoff overflowed its cap")
	}
}

func TestRetryAfterIsHonouredUpToTheCap(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, value string
		attempts    int
		wait        time.Duration
	}{
		{"seconds", "1", 2, time.Second},
		{"zero", "0", 2, 0},
		{"date", now.Add(7 * time.Second).Format(http.TimeFormat), 2, 7 * time.Second},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 2, 0},
		{"above the cap: not waited for", "61", 1, -1},
		{"garbage: backoff", "soon", 2, 500 * time.Millisecond},
	} {
		s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(429, "Retry-After", tc.value), status(200)}}
		fc := &fakeClock{}
		rt := newTestTransport(s, fc, nil)
		rt.clock.now = func() time.Time { return now }
		resp, err := rt.RoundTrip(newReq(t, t.Context(), "GET", ""))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.seen) != tc.attempts {
			t.Errorf("%s: %d attempts, want %d", tc.name, len(s.seen), tc.attempts)
		}
		waits := fc.got()
		switch {
		case tc.wait < 0 && (len(waits) != 0 || resp.StatusCode != 429):
			t.Errorf("%s: waits %v, status %d; want no wait and the 429", tc.name, waits, resp.StatusCode)
		case tc.wait >= 0 && (len(waits) != 1 || waits[0] != tc.wait):
			t.Errorf("%s: waits %v, want [%v]", tc.name, waits, tc.wait)
		}
	}
}

// A wait that would outlast the context's deadline is not started: the last
// response comes back at once.
func TestDeadlineWinsOverTheWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(503, "Retry-After", "5"), status(200)}}
	fc := &fakeClock{}
	resp, err := newTestTransport(s, fc, nil).RoundTrip(newReq(t, ctx, "GET", ""))
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("got %v, %v; want the 503", resp, err)
	}
	if len(s.seen) != 1 || len(fc.got()) != 0 {
		t.Errorf("%d attempts, waits %v; want 1 attempt, no wait", len(s.seen), fc.got())
	}
}

func TestRetriesAreLoggedWithoutSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	leaky := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("peer said sk_test_retrysecret")}
	s := &script{outcomes: []func(*http.Request) (*http.Response, error){status(503), fail(leaky), status(200)}}
	req := newReq(t, t.Context(), "GET", "")
	req.Header.Set("Authorization", "Bearer sk_test_retrysecret")
	if _, err := newTestTransport(s, &fakeClock{}, logger).RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), out)
	}
	for _, want := range []string{"level=WARN", `msg="kelviq: retrying request"`, "operation=listCustomers", "method=GET", "path=/customers/", "attempt=1", "wait=500ms", "status=503"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line lacks %s: %s", want, lines[0])
		}
	}
	if !strings.Contains(lines[1], "attempt=2") || !strings.Contains(lines[1], "error=") {
		t.Errorf("second line: %s", lines[1])
	}
	if strings.Contains(out, "retrysecret") || strings.Contains(out, "Bearer") {
		t.Errorf("the log holds a key:\n%s", strings.ReplaceAll(out, "sk_test_retrysecret", "<KEY>"))
	}
}

// A request that is not retried costs nothing: no allocation in the retry
// transport, the operation lookup or the response check.
func TestNoAllocationsWithoutRetry(t *testing.T) {
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: http.NoBody, ContentLength: 10}
	next := roundTripFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	rt := newTestTransport(next, &fakeClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	req := newReq(t, t.Context(), "GET", "")
	rc := &responseChecker{ops: rt.ops, maxBody: DefaultMaxResponseBytes}
	op := rt.ops.find("GET", req.URL)
	if op == nil || op.ID != "listCustomers" {
		t.Fatalf("find: %v", op)
	}
	allocs := testing.AllocsPerRun(100, func() {
		r, _ := rt.RoundTrip(req)
		_ = rc.ops.find(req.Method, req.URL)
		_ = rc.checkSuccess(op, req, r, nil)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"007", 7 * time.Second, true},
		{"99999999999999999999999", maxRetryAfterSeconds * time.Second, true},
		{"Wed, 01 Jul 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Wednesday, 01-Jul-26 12:00:30 GMT", 30 * time.Second, true}, // RFC 850
		{"Wed Jul  1 12:00:30 2026", 30 * time.Second, true},          // asctime
		{"Tue, 30 Jun 2026 12:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"+3", 0, false},
		{"soon", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0", "120", "-1", "1.5", "Wed, 01 Jul 2026 12:00:30 GMT", "Wednesday, 01-Jul-26 12:00:30 GMT", "Wed Jul  1 12:00:30 2026", "99999999999999999999", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if !ok {
			if d != 0 {
				t.Fatalf("%q: not ok but %v", v, d)
			}
			return
		}
		if d < 0 {
			t.Fatalf("%q: negative wait %v", v, d)
		}
		trimmed := strings.TrimSpace(v)
		if trimmed != "" && strings.Trim(trimmed, "0123456789") == "" {
			// Seconds: whole, and exact while small.
			if d%time.Second != 0 || d > maxRetryAfterSeconds*time.Second {
				t.Fatalf("%q: %v", v, d)
			}
			if len(trimmed) <= 9 {
				n := 0
				for _, c := range trimmed {
					n = n*10 + int(c-'0')
				}
				if d != time.Duration(n)*time.Second {
					t.Fatalf("%q: %v, want %ds", v, d, n)
				}
			}
		}
		if d2, ok2 := parseRetryAfter(v, now); d2 != d || ok2 != ok {
			t.Fatalf("%q: not deterministic", v)
		}
	})
}

func TestRetryOptions(t *testing.T) {
	base := []Option{WithServerKey("sk_test_x")}
	for _, tc := range []struct {
		name string
		opt  Option
		want string // in the error; "" for none
	}{
		{"negative retries", WithRetries(-1), "WithRetries"},
		{"too many retries", WithRetries(maxRetries + 1), "WithRetries"},
		{"negative policy", WithRetryPolicy(RetryPolicy{BaseDelay: -time.Second}), "WithRetryPolicy"},
		{"huge policy", WithRetryPolicy(RetryPolicy{MaxAttempts: 1 << 30}), "WithRetryPolicy"},
		{"zero body limit", WithMaxResponseBytes(0), "WithMaxResponseBytes"},
		{"nil logger", WithLogger(nil), ""},
	} {
		_, err := NewClient(append(base, tc.opt)...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want ErrInvalidConfig naming %s", tc.name, err, tc.want)
		}
	}

	resolve := func(opts ...Option) *settings {
		t.Helper()
		var c config
		for _, o := range append(base, opts...) {
			o(&c)
		}
		s, err := c.resolve()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := resolve(); s.retry != DefaultRetryPolicy() || s.maxBody != DefaultMaxResponseBytes {
		t.Errorf("defaults: %+v, %d", s.retry, s.maxBody)
	}
	want := RetryPolicy{MaxAttempts: 6, BaseDelay: time.Second, MaxDelay: 8 * time.Second, MaxRetryAfter: 60 * time.Second}
	for _, opts := range [][]Option{
		{WithRetryPolicy(RetryPolicy{BaseDelay: time.Second}), WithRetries(5)},
		{WithRetries(5), WithRetryPolicy(RetryPolicy{BaseDelay: time.Second, MaxAttempts: 2})},
	} {
		if s := resolve(opts...); s.retry != want {
			t.Errorf("got %+v, want %+v (zero fields default, WithRetries sets MaxAttempts)", s.retry, want)
		}
	}

	// Retries off: one attempt (the transport stays wrapped, for a call
	// given WithCallRetries).
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })
	c, err := NewClient(WithServerKey("sk_test_x"), WithHTTPClient(&http.Client{Transport: rt}), WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if tr, wrapped := c.httpClient.Transport.(*retryTransport); !wrapped || tr.policy.MaxAttempts != 1 {
		t.Error("WithRetries(0) does not make one attempt")
	}
	c, _ = NewClient(WithServerKey("sk_test_x"), WithHTTPClient(&http.Client{Transport: rt, Timeout: time.Minute}))
	if tr, wrapped := c.httpClient.Transport.(*retryTransport); !wrapped || tr.policy.MaxAttempts != 3 {
		t.Error("retries are not on by default")
	}
	// The caller's Timeout bounds the call, through the response checker;
	// the client's own http.Client has DefaultTimeout.
	checker := func(c *Client) *responseChecker {
		return c.ClientInterface.(guardedClient).ClientInterface.(*api.Client).Client.(*responseChecker)
	}
	if c.httpClient.Timeout != 0 || checker(c).timeout != time.Minute {
		t.Errorf("internal Timeout %v, call timeout %v; want 0 and 1m", c.httpClient.Timeout, checker(c).timeout)
	}
	if c, _ = NewClient(WithServerKey("sk_test_x")); checker(c).timeout != DefaultTimeout {
		t.Errorf("call timeout %v, want DefaultTimeout", checker(c).timeout)
	}
}
