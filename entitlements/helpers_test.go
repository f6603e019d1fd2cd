package entitlements_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
)

const testKey = "sk_test_entitlements_0123456789"

// fakeAPI is a loopback kelviq edge that the test steers: what each customer
// has, and how the API fails.
type fakeAPI struct {
	t     testing.TB
	srv   *httptest.Server
	calls atomic.Int64

	mu        sync.Mutex
	customers map[string]string // customer → JSON array of entries
	status    int               // non-zero: answer this status to every request
	drop      bool              // close the connection without an answer
	gate      chan struct{}     // non-nil: requests wait for it to close
	override  http.Handler      // non-nil: serves every request instead
}

// serveWith makes h answer every request from now on.
func (f *fakeAPI) serveWith(h http.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.override = h
}

func newFakeAPI(t testing.TB) *fakeAPI { return startFakeAPI(t, false) }

// startFakeAPI starts the fake. Without keepAlive, every request has its own
// connection: net/http's client resends an idempotent request whose reused
// connection closes unanswered (the drop mode), which would make the call
// counts of tests depend on connection reuse. Benchmarks keep connections.
func startFakeAPI(t testing.TB, keepAlive bool) *fakeAPI {
	f := &fakeAPI{t: t, customers: map[string]string{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.SetKeepAlivesEnabled(keepAlive)
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	f.mu.Lock()
	override := f.override
	f.mu.Unlock()
	if override != nil {
		override.ServeHTTP(w, r)
		return
	}
	if r.URL.Path != "/entitlements/" || r.Header.Get("Authorization") != "Bearer "+testKey {
		http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusTeapot)
		return
	}
	f.mu.Lock()
	gate, status, drop := f.gate, f.status, f.drop
	entries, known := f.customers[r.URL.Query().Get("customer_id")]
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case drop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	case status != 0:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"detail":"fake status %d"}`, status)
		return
	case !known:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"detail":"Customer does not exist."}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"customerId":%q,"entitlements":%s}`, r.URL.Query().Get("customer_id"), entries)
}

// set gives a customer its entries (a JSON array).
func (f *fakeAPI) set(customer, entries string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.customers[customer] = entries
}

// fail makes every request answer status (0: answer normally again).
func (f *fakeAPI) fail(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = status
}

// down makes every request end without an answer (a network error).
func (f *fakeAPI) down(d bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop = d
}

// hold makes requests wait until the returned function is called.
func (f *fakeAPI) hold() (release func()) {
	g := make(chan struct{})
	f.mu.Lock()
	f.gate = g
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.gate = nil
			f.mu.Unlock()
			close(g)
		})
	}
}

func (f *fakeAPI) client(t testing.TB) *kelviq.Client {
	t.Helper()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testKey), kelviq.WithBaseURL(f.srv.URL), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clock is a time the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newChecker returns a Checker on f with a hand-moved clock.
func newChecker(t testing.TB, f *fakeAPI, opts ...entitlements.Option) (*entitlements.Checker, *clock) {
	t.Helper()
	clk := newClock()
	c, err := entitlements.New(f.client(t), append([]entitlements.Option{entitlements.WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

// logBuffer is a slog logger whose lines a test can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) count(substr string) int { return strings.Count(l.String(), substr) }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// mustHave asserts HasAccess's answer.
func mustHave(t *testing.T, c *entitlements.Checker, customer, feature string, want bool) {
	t.Helper()
	got, err := c.HasAccess(context.Background(), customer, feature)
	if err != nil {
		t.Fatalf("HasAccess(%q, %q): unexpected error %v", customer, feature, err)
	}
	if got != want {
		t.Fatalf("HasAccess(%q, %q) = %v, want %v", customer, feature, got, want)
	}
}

// waitFor polls cond until it holds, failing after a generous bound: for
// work that happens in the background, never as a speed assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const (
	boolOn   = `{"featureId":"sso","featureType":"BOOLEAN","hasAccess":true,"resetAt":null}`
	meterTen = `{"featureId":"api-calls","featureType":"METER","hasAccess":true,"hardLimit":true,"usageLimit":10,"currentUsage":4,"remaining":6,"resetAt":"2026-06-01 00:00:00"}`
)
