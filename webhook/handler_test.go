package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

// recorder is a callback that counts its calls and keeps the events it got.
type recorder struct {
	mu     sync.Mutex
	events []*webhook.Event
	err    error // returned by every call
}

func (r *recorder) handle(_ context.Context, e *webhook.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return r.err
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// deliver sends body with header to h through httptest and returns the answer.
func deliver(h http.Handler, method string, body []byte, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/webhooks/kelviq", bytes.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandlerDeliversVerifiedEvent(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock())
	body := loadEvent(t, "invoice.paid")
	w := deliver(h, http.MethodPost, body, signedAt(body, "msg_1", 0, testSecret))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d %q, want 200", w.Code, w.Body)
	}
	if rec.calls() != 1 {
		t.Fatalf("callback called %d times, want 1", rec.calls())
	}
	e := rec.events[0]
	inv, err := e.Invoice()
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != webhook.EventInvoicePaid || e.WebhookID != "msg_1" || inv.AmountTotalUnits != 4000 {
		t.Errorf("callback got %s %s %d", e.Type, e.WebhookID, inv.AmountTotalUnits)
	}
}

func TestHandlerRejects(t *testing.T) {
	good := signedAt(validBody, validID, 0, testSecret)
	cases := []struct {
		name   string
		method string
		body   []byte
		header http.Header
		want   int
	}{
		{"bad signature", http.MethodPost, validBody, signedAt(validBody, validID, 0, otherSecret), http.StatusUnauthorized},
		{"body altered", http.MethodPost, flipByte(validBody, 10), good, http.StatusUnauthorized},
		{"expired", http.MethodPost, validBody, signedAt(validBody, validID, -time.Hour, testSecret), http.StatusUnauthorized},
		{"from the future", http.MethodPost, validBody, signedAt(validBody, validID, time.Hour, testSecret), http.StatusUnauthorized},
		{"no headers", http.MethodPost, validBody, nil, http.StatusBadRequest},
		{"malformed signature", http.MethodPost, validBody, with(good, webhook.HeaderSignature, "sig"), http.StatusBadRequest},
		{"bad timestamp", http.MethodPost, validBody, with(good, webhook.HeaderTimestamp, "now"), http.StatusBadRequest},
		{"signed but not JSON", http.MethodPost, []byte("hello"), signedAt([]byte("hello"), validID, 0, testSecret), http.StatusBadRequest},
		{"GET", http.MethodGet, nil, good, http.StatusMethodNotAllowed},
		{"PUT", http.MethodPut, validBody, good, http.StatusMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			h := webhook.NewHandler(testSecret, rec.handle, fixedClock())
			w := deliver(h, c.method, c.body, c.header)
			if w.Code != c.want {
				t.Errorf("status = %d %q, want %d", w.Code, w.Body, c.want)
			}
			if rec.calls() != 0 {
				t.Errorf("callback called %d times for a rejected delivery", rec.calls())
			}
			if c.want == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", w.Header().Get("Allow"))
			}
		})
	}
}

func TestHandlerCallbackErrorIs5xxAndRetried(t *testing.T) {
	rec := &recorder{err: errors.New("database down")}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock())
	w := deliver(h, http.MethodPost, validBody, signedAt(validBody, validID, 0, testSecret))
	if w.Code < 500 || w.Code > 599 {
		t.Fatalf("status = %d, want 5xx", w.Code)
	}
	if strings.Contains(w.Body.String(), "database down") {
		t.Errorf("answer echoes the callback's error: %q", w.Body)
	}
	// kelviq retries with the same webhook-id and a new timestamp: it is processed again.
	rec.mu.Lock()
	rec.err = nil
	rec.mu.Unlock()
	w = deliver(h, http.MethodPost, validBody, signedAt(validBody, validID, 30*time.Second, testSecret))
	if w.Code != http.StatusOK || rec.calls() != 2 {
		t.Errorf("retry: status %d after %d calls, want 200 after 2", w.Code, rec.calls())
	}
}

func TestHandlerDropsDuplicates(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock())
	body := loadEvent(t, "order.created")
	header := signedAt(body, "msg_dup", 0, testSecret)
	for i := range 3 {
		w := deliver(h, http.MethodPost, body, header)
		if w.Code != http.StatusOK {
			t.Fatalf("delivery %d: status = %d, want 200", i+1, w.Code)
		}
	}
	// A retry re-signed later with the same webhook-id is a duplicate too.
	w := deliver(h, http.MethodPost, body, signedAt(body, "msg_dup", time.Minute, testSecret))
	if w.Code != http.StatusOK {
		t.Fatalf("re-signed retry: status = %d, want 200", w.Code)
	}
	if rec.calls() != 1 {
		t.Errorf("callback called %d times, want 1", rec.calls())
	}
	// Another webhook-id is a new delivery.
	w = deliver(h, http.MethodPost, body, signedAt(body, "msg_other", 0, testSecret))
	if w.Code != http.StatusOK || rec.calls() != 2 {
		t.Errorf("new id: status %d after %d calls, want 200 after 2", w.Code, rec.calls())
	}
}

func TestHandlerDuplicateWhileInProgress(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int32
	h := webhook.NewHandler(testSecret, func(context.Context, *webhook.Event) error {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return nil
	}, fixedClock())
	header := signedAt(validBody, validID, 0, testSecret)

	first := make(chan int)
	go func() { first <- deliver(h, http.MethodPost, validBody, header).Code }()
	<-entered
	w := deliver(h, http.MethodPost, validBody, header)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("duplicate during processing: status = %d, want 503", w.Code)
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first delivery: status = %d, want 200", code)
	}
	if w := deliver(h, http.MethodPost, validBody, header); w.Code != http.StatusOK {
		t.Errorf("duplicate after processing: status = %d, want 200", w.Code)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("callback called %d times, want 1", n)
	}
}

func TestHandlerConcurrentDuplicatesCallOnce(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock())
	header := signedAt(validBody, validID, 0, testSecret)
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() { codes <- deliver(h, http.MethodPost, validBody, header).Code })
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("status = %d, want 200 or 503", code)
		}
	}
	if rec.calls() != 1 {
		t.Errorf("callback called %d times, want 1", rec.calls())
	}
}

func TestHandlerDedupeWindowExpires(t *testing.T) {
	clk := &clock{now: testNow}
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, webhook.WithNow(clk.Now), webhook.WithDedupeWindow(time.Hour))
	send := func() int {
		return deliver(h, http.MethodPost, validBody, webhook.Sign(validBody, validID, clk.Now(), testSecret)).Code
	}
	send()
	clk.Advance(time.Hour - time.Second)
	send()
	if rec.calls() != 1 {
		t.Fatalf("within the window: %d calls, want 1", rec.calls())
	}
	clk.Advance(time.Second)
	if code := send(); code != http.StatusOK || rec.calls() != 2 {
		t.Errorf("after the window: status %d, %d calls, want 200 and 2", code, rec.calls())
	}
}

func TestHandlerDefaultWindowIsTwiceTheTolerance(t *testing.T) {
	clk := &clock{now: testNow}
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, webhook.WithNow(clk.Now), webhook.WithTolerance(time.Minute))
	send := func() {
		deliver(h, http.MethodPost, validBody, webhook.Sign(validBody, validID, clk.Now(), testSecret))
	}
	send()
	clk.Advance(2*time.Minute - time.Second)
	send()
	clk.Advance(time.Second)
	send()
	if rec.calls() != 2 {
		t.Errorf("%d calls, want 2 (the second send within 2×tolerance is a duplicate)", rec.calls())
	}
}

func TestHandlerWithoutStore(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock(), webhook.WithStore(nil))
	header := signedAt(validBody, validID, 0, testSecret)
	deliver(h, http.MethodPost, validBody, header)
	deliver(h, http.MethodPost, validBody, header)
	if rec.calls() != 2 {
		t.Errorf("callback called %d times without a store, want 2", rec.calls())
	}
}

// failingStore fails every Claim.
type failingStore struct{}

func (failingStore) Claim(context.Context, string, time.Duration) (webhook.ClaimResult, error) {
	return 0, errors.New("store unreachable")
}
func (failingStore) Complete(context.Context, string, time.Duration) error { return nil }
func (failingStore) Release(context.Context, string) error                 { return nil }

func TestHandlerStoreFailureIs5xx(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock(), webhook.WithStore(failingStore{}))
	w := deliver(h, http.MethodPost, validBody, signedAt(validBody, validID, 0, testSecret))
	if w.Code != http.StatusInternalServerError || rec.calls() != 0 {
		t.Errorf("status %d, %d calls, want 500 and no call", w.Code, rec.calls())
	}
}

func TestHandlerSharedStore(t *testing.T) {
	store := webhook.NewMemoryStore(func() time.Time { return testNow })
	rec := &recorder{}
	a := webhook.NewHandler(testSecret, rec.handle, fixedClock(), webhook.WithStore(store))
	b := webhook.NewHandler(testSecret, rec.handle, fixedClock(), webhook.WithStore(store))
	header := signedAt(validBody, validID, 0, testSecret)
	deliver(a, http.MethodPost, validBody, header)
	deliver(b, http.MethodPost, validBody, header)
	if rec.calls() != 1 || store.Len() != 1 {
		t.Errorf("%d calls, %d ids stored, want 1 and 1", rec.calls(), store.Len())
	}
}

func TestHandlerPanicReleasesClaim(t *testing.T) {
	var calls atomic.Int32
	h := webhook.NewHandler(testSecret, func(context.Context, *webhook.Event) error {
		if calls.Add(1) == 1 {
			panic("callback bug")
		}
		return nil
	}, fixedClock())
	header := signedAt(validBody, validID, 0, testSecret)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the callback's panic was swallowed")
			}
		}()
		deliver(h, http.MethodPost, validBody, header)
	}()
	if w := deliver(h, http.MethodPost, validBody, header); w.Code != http.StatusOK || calls.Load() != 2 {
		t.Errorf("after a panic: status %d, %d calls, want 200 and 2", w.Code, calls.Load())
	}
}

func TestHandlerOversizedBody(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 2048)
	header := signedAt(big, validID, 0, testSecret)
	for _, chunked := range []bool{false, true} {
		rec := &recorder{}
		h := webhook.NewHandler(testSecret, rec.handle, fixedClock(), webhook.WithMaxBodyBytes(1024))
		body := &countingReader{r: bytes.NewReader(big)}
		req := httptest.NewRequest(http.MethodPost, "/", body)
		if chunked {
			req.ContentLength = -1 // length unknown: the limit must stop the read
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked=%v: status = %d, want 413", chunked, w.Code)
		}
		if rec.calls() != 0 {
			t.Errorf("chunked=%v: callback called for an oversized body", chunked)
		}
		if n := body.n.Load(); n > 1025+512 {
			t.Errorf("chunked=%v: read %d bytes of the body, want at most about the limit", chunked, n)
		}
	}
	// At the limit exactly, the body is read and verified.
	body := bytes.Repeat([]byte(" "), 1024-len(validBody))
	body = append(body, validBody...)
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock(), webhook.WithMaxBodyBytes(1024))
	if w := deliver(h, http.MethodPost, body, signedAt(body, validID, 0, testSecret)); w.Code != http.StatusOK || rec.calls() != 1 {
		t.Errorf("body at the limit: status %d, %d calls, want 200 and 1", w.Code, rec.calls())
	}
}

func TestHandlerDefaultBodyLimit(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock())
	big := bytes.Repeat([]byte(" "), int(webhook.DefaultMaxBodyBytes)+1)
	if w := deliver(h, http.MethodPost, big, signedAt(big, validID, 0, testSecret)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", w.Code)
	}
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestHandlerRotatedSecret(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock(), webhook.WithSecrets(oldSecret))
	for i, secret := range []string{testSecret, oldSecret} {
		id := []string{"msg_new_secret", "msg_old_secret"}[i]
		if w := deliver(h, http.MethodPost, validBody, signedAt(validBody, id, 0, secret)); w.Code != http.StatusOK {
			t.Errorf("signed with secret %d: status = %d, want 200", i, w.Code)
		}
	}
	if w := deliver(h, http.MethodPost, validBody, signedAt(validBody, "msg_third", 0, otherSecret)); w.Code != http.StatusUnauthorized {
		t.Errorf("signed with an unknown secret: status = %d, want 401", w.Code)
	}
	if rec.calls() != 2 {
		t.Errorf("%d calls, want 2", rec.calls())
	}
}

func TestHandlerLogs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	h := webhook.NewHandler(testSecret, func(context.Context, *webhook.Event) error {
		return errors.New("callback failed on purpose")
	}, fixedClock(), webhook.WithLogger(logger))
	deliver(h, http.MethodPost, validBody, signedAt(validBody, "msg_forged", 0, otherSecret))
	deliver(h, http.MethodPost, validBody, signedAt(validBody, "msg_real", 0, testSecret))
	out := buf.String()
	for _, want := range []string{
		"level=WARN", "delivery rejected", "webhook_id=msg_forged", "status=401", "no matching signature",
		"level=ERROR", "callback failed", "webhook_id=msg_real", "status=500", "callback failed on purpose",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	assertNoSecret(t, "log", out)
}

// A handler without a callback or a usable secret never panics and never
// accepts a delivery: it answers 500 naming ErrMisconfigured.
func TestMisconfiguredHandlerRefusesEverything(t *testing.T) {
	var calls atomic.Int32
	fn := func(context.Context, *webhook.Event) error { calls.Add(1); return nil }
	for name, h := range map[string]http.Handler{
		"nil callback":       webhook.NewHandler(testSecret, nil),
		"empty secret":       webhook.NewHandler("", fn),
		"only empty secrets": webhook.NewHandler("", fn, webhook.WithSecrets("")),
	} {
		t.Run(name, func(t *testing.T) {
			body := validBody
			// Even a delivery signed with the empty key is refused.
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			for k, v := range signedAt(body, validID, 0, "") {
				req.Header[k] = v
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "misconfigured") {
				t.Errorf("status %d %q, want 500 naming the misconfiguration", w.Code, w.Body.String())
			}
		})
	}
	if calls.Load() != 0 {
		t.Errorf("the callback ran %d times", calls.Load())
	}
	// A rotated secret alone is enough.
	h := webhook.NewHandler("", fn, webhook.WithSecrets(oldSecret))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("with a rotated secret only: status %d, want 405 (configured)", w.Code)
	}
}

func TestHandlerNilBody(t *testing.T) {
	rec := &recorder{}
	h := webhook.NewHandler(testSecret, rec.handle, fixedClock())
	req, err := http.NewRequest(http.MethodPost, "/", nil) // Body is nil
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range signedAt(nil, validID, 0, testSecret) {
		req.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	// The empty body is signed correctly but is no event.
	if w.Code != http.StatusBadRequest || rec.calls() != 0 {
		t.Errorf("status %d, %d calls, want 400 and none", w.Code, rec.calls())
	}
}
