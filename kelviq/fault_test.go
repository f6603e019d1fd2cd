package kelviq_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// The fault suite: each case runs the client against a loopback server that
// misbehaves in one way, and checks both what the server saw and what the
// caller got. TestFaultSuiteLeaksNoSecrets (secrets_test.go) runs the same
// cases again and searches everything they produced for the keys.

// Keys of the fault suite. FAULTSECRET is what the leak check looks for.
const (
	faultServerKey  = "sk_test_FAULTSECRET0a1b2c3d4e"
	faultPartnerKey = "kvqp_FAULTSECRET9f8e7d6c5b"
	secretMarker    = "FAULTSECRET"
)

// harness builds the clients of one fault case: both keys, a logger that
// captures, a fake sleep that records the waits, and its own connection
// pool. It keeps every error text the case produced.
type harness struct {
	t         *testing.T
	realSleep bool // use the real sleep (for a wait that must be cut short)

	logs  syncBuffer
	mu    sync.Mutex
	waits []time.Duration
	texts []string
}

func newHarness(t *testing.T) *harness { return &harness{t: t} }

func (h *harness) sleep(ctx context.Context, d time.Duration) error {
	h.mu.Lock()
	h.waits = append(h.waits, d)
	h.mu.Unlock()
	return ctx.Err()
}

func (h *harness) gotWaits() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.waits...)
}

// client returns a client of base with the given transport (nil: a fresh
// http.Transport), the harness's logger and sleep, and opts.
func (h *harness) client(base string, rt http.RoundTripper, opts ...kelviq.Option) *kelviq.Client {
	h.t.Helper()
	if rt == nil {
		tr := &http.Transport{}
		h.t.Cleanup(tr.CloseIdleConnections)
		rt = tr
	}
	all := []kelviq.Option{
		kelviq.WithServerKey(faultServerKey),
		kelviq.WithPartnerKey(faultPartnerKey),
		kelviq.WithBaseURL(base),
		kelviq.WithHTTPClient(&http.Client{Transport: rt, Timeout: 20 * time.Second}),
		kelviq.WithLogger(slog.New(slog.NewTextHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	if !h.realSleep {
		all = append(all, kelviq.WithFakeSleep(h.sleep))
	}
	c, err := kelviq.NewClient(append(all, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// record keeps the texts of err, as a caller would print or log it.
func (h *harness) record(err error) {
	if err == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.texts = append(h.texts, err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	var apiErr *kelviq.Error
	if errors.As(err, &apiErr) {
		h.texts = append(h.texts, apiErr.Message, apiErr.RequestID, string(apiErr.Body), fmt.Sprint(apiErr.FieldErrors))
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// seen is one request as a fault server saw it.
type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// faultServer is a loopback server that records what it receives and
// answers with handle(w, r, n), n counting requests from 1.
type faultServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []seen
	release chan struct{} // closed when the test ends: stalled handlers return
}

func newFaultServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *faultServer {
	return newRawFaultServer(t, func(s *faultServer) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handle(w, r, s.add(r))
		})
	})
}

// newRawFaultServer serves handler(s); the handler records requests itself
// with s.add.
func newRawFaultServer(t *testing.T, handler func(s *faultServer) http.Handler) *faultServer {
	s := &faultServer{release: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(handler(s))
	s.Config.ErrorLog = log.New(&serverLog, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.release) }) // runs first
	return s
}

// serverLog collects what the fault servers log (a handler's panic, say).
var serverLog syncBuffer

// add records r, reading its body, and returns its number, from 1.
func (s *faultServer) add(r *http.Request) int {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
	return len(s.reqs)
}

func (s *faultServer) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// stall blocks a handler until the client goes away or the test ends.
func (s *faultServer) stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.release:
	}
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// hijack takes the raw connection of a request.
func hijack(t *testing.T, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	return conn, rw
}

// reset closes conn with a TCP RST instead of a FIN.
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

const onePage = `{"count":1,"next":null,"previous":null,"results":[{"customerId":"cus_1"}]}`

func asAPIError(t *testing.T, err error) *kelviq.Error {
	t.Helper()
	var apiErr *kelviq.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v (%T), want a *kelviq.Error", err, err)
	}
	return apiErr
}

func notAPIError(t *testing.T, err error) {
	t.Helper()
	var apiErr *kelviq.Error
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("got %v, want an error that is not a *kelviq.Error", err)
	}
}

func within(t *testing.T, start time.Time, limit time.Duration) {
	t.Helper()
	if d := time.Since(start); d > limit {
		t.Errorf("took %v, want well under %v", d, limit)
	}
}

type faultCase struct {
	name string
	run  func(t *testing.T, h *harness)
}

var faultCases = []faultCase{
	{"GET 503 twice then 200: succeeds after three requests", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n <= 2 {
				writeJSON(w, 503, `{"detail":"try later"}`)
				return
			}
			writeJSON(w, 200, onePage)
		})
		res, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		if err != nil || res.JSON200 == nil || *res.JSON200.Results[0].CustomerID != "cus_1" {
			t.Fatalf("got %v, %v", res, err)
		}
		if n := len(srv.requests()); n != 3 {
			t.Errorf("the server saw %d requests, want 3", n)
		}
		if w := h.gotWaits(); len(w) != 2 || w[0] > 500*time.Millisecond || w[1] > time.Second {
			t.Errorf("waits %v, want two within the backoff ceilings 500ms and 1s", w)
		}
		if got := strings.Count(h.logs.String(), "kelviq: retrying request"); got != 2 {
			t.Errorf("%d retries logged, want 2:\n%s", got, h.logs.String())
		}
	}},

	{"429 with Retry-After 1: waits one second, then succeeds", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				writeJSON(w, 429, `{"detail":"Request was throttled."}`)
				return
			}
			writeJSON(w, 200, onePage)
		})
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(srv.requests()); n != 2 {
			t.Errorf("the server saw %d requests, want 2", n)
		}
		if w := h.gotWaits(); len(w) != 1 || w[0] != time.Second {
			t.Errorf("waits %v, want exactly [1s]", w)
		}
	}},

	{"POST 503: one request, a *kelviq.Error", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, 503, `{"status":"Service Unavailable","message":"maintenance"}`)
		})
		_, err := h.client(srv.URL, nil).CreateCustomerWithResponse(t.Context(), api.CustomerCreateRequest{CustomerID: "cus_1"})
		h.record(err)
		apiErr := asAPIError(t, err)
		if apiErr.StatusCode != 503 || !errors.Is(err, kelviq.ErrServerError) || apiErr.Message != "maintenance" || apiErr.Operation != "createCustomer" || apiErr.Method != "POST" {
			t.Errorf("got %+v", apiErr)
		}
		if reqs := srv.requests(); len(reqs) != 1 || !strings.Contains(reqs[0].Body, `"customerId":"cus_1"`) {
			t.Errorf("the server saw %d requests (%v), want exactly 1 with the body", len(reqs), reqs)
		}
		if w := h.gotWaits(); len(w) != 0 {
			t.Errorf("waited %v", w)
		}
	}},

	{"POST marked Idempotent: retried with the same body", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				writeJSON(w, 503, `{}`)
				return
			}
			writeJSON(w, 200, `{"behaviour":"SET","value":5}`)
		})
		body := api.ReportUsageRequest{Behaviour: api.ReportUsageRequestBehaviourSET, CustomerID: "cus_1", FeatureID: "seats", Value: 5}
		res, err := h.client(srv.URL, nil).ReportUsageWithResponse(t.Context(), body, kelviq.Idempotent())
		h.record(err)
		if err != nil || res.JSON200 == nil {
			t.Fatalf("got %v, %v", res, err)
		}
		reqs := srv.requests()
		if len(reqs) != 2 || reqs[0].Body != reqs[1].Body || !strings.Contains(reqs[1].Body, `"behaviour":"SET"`) {
			t.Errorf("the server saw %v, want the same body twice", reqs)
		}
	}},

	{"connection reset before the response: a GET is retried, a POST is not", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if r.Method == "POST" || n == 1 {
				if conn, _ := hijack(t, w); conn != nil {
					reset(conn)
				}
				return
			}
			writeJSON(w, 200, onePage)
		})
		c := h.client(srv.URL, nil)
		_, err := c.ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		if n := len(srv.requests()); n != 2 {
			t.Errorf("GET: the server saw %d requests, want 2", n)
		}
		_, err = c.CreateCustomerWithResponse(t.Context(), api.CustomerCreateRequest{CustomerID: "cus_1"})
		h.record(err)
		notAPIError(t, err)
		if n := len(srv.requests()); n != 3 {
			t.Errorf("POST: the server saw %d requests in all, want 3 (the POST once)", n)
		}
	}},

	{"connection reset mid-body: an error, not a hang, no retry", func(t *testing.T, h *harness) {
		gotHeaders := make(chan struct{})
		var once sync.Once
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			conn, rw := hijack(t, w)
			if conn == nil {
				return
			}
			_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + `{"count":1,"results":[`)
			_ = rw.Flush()
			select { // reset once the client has the headers, so the reset hits the body
			case <-gotHeaders:
			case <-time.After(5 * time.Second):
			}
			reset(conn)
		})
		rt := &notifyTransport{next: &http.Transport{}, notify: func() { once.Do(func() { close(gotHeaders) }) }}
		start := time.Now()
		_, err := h.client(srv.URL, rt).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		notAPIError(t, err)
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("got %v, want a connection reset or an unexpected EOF", err)
		}
		within(t, start, 5*time.Second)
		if n := len(srv.requests()); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	}},

	{"truncated JSON: the connection closes short of Content-Length", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			conn, rw := hijack(t, w)
			if conn == nil {
				return
			}
			_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n" + `{"count":1,"results":[{"custo`)
			_ = rw.Flush()
			_ = conn.Close()
		})
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		notAPIError(t, err)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
		}
		if n := len(srv.requests()); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	}},

	{"truncated JSON: a complete response with half a document", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, 200, `{"count":1,"results":[{"custo`)
		})
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		var syntax *json.SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("got %v, want a *json.SyntaxError", err)
		}
		notAPIError(t, err)
	}},

	{"HTML error page with 502: retried, then a *kelviq.Error", func(t *testing.T, h *harness) {
		const page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center></body>\r\n</html>\r\n"
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("X-Request-Id", "edge-42")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, page)
		})
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		apiErr := asAPIError(t, err)
		if apiErr.StatusCode != 502 || apiErr.Message != "" || string(apiErr.Body) != page || apiErr.RequestID != "edge-42" || !errors.Is(err, kelviq.ErrServerError) {
			t.Errorf("got %+v", apiErr)
		}
		if want := "kelviq: listCustomers (GET /customers/): 502 Bad Gateway (request ID edge-42)"; err.Error() != want {
			t.Errorf("got %q, want %q", err.Error(), want)
		}
		if n := len(srv.requests()); n != 3 {
			t.Errorf("the server saw %d requests, want 3 (two retries)", n)
		}
	}},

	{"200 with invalid JSON: a decoding error, no retry", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, 200, `{"count": 1, "results": [}`)
		})
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		var syntax *json.SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("got %v, want a *json.SyntaxError", err)
		}
		if n := len(srv.requests()); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	}},

	{"200 with an HTML page where the spec declares JSON: ErrUnexpectedResponse", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>Sign in to the Wi-Fi</html>")
		})
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		if !errors.Is(err, kelviq.ErrUnexpectedResponse) || !strings.Contains(err.Error(), "text/html") {
			t.Errorf("got %v, want ErrUnexpectedResponse naming the content type", err)
		}
	}},

	{"oversized body: ErrResponseTooLarge, with or without Content-Length", func(t *testing.T, h *harness) {
		big := `{"count":1,"results":[{"customerId":"` + strings.Repeat("x", 4000) + `"}]}`
		exact := `{"count":1,"results":[]}`
		exact += strings.Repeat(" ", 1024-len(exact))
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "application/json")
			switch r.URL.Query().Get("search") {
			case "length":
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				_, _ = io.WriteString(w, big)
			case "chunked":
				_, _ = io.WriteString(w, big[:100])
				w.(http.Flusher).Flush() // no Content-Length from here on
				_, _ = io.WriteString(w, big[100:])
			case "exact":
				_, _ = io.WriteString(w, exact[:100])
				w.(http.Flusher).Flush()
				_, _ = io.WriteString(w, exact[100:])
			}
		})
		c := h.client(srv.URL, nil, kelviq.WithMaxResponseBytes(1024))
		for _, mode := range []string{"length", "chunked"} {
			_, err := c.ListCustomersWithResponse(t.Context(), &api.ListCustomersParams{Search: &mode})
			h.record(err)
			if !errors.Is(err, kelviq.ErrResponseTooLarge) || !strings.Contains(err.Error(), "listCustomers") {
				t.Errorf("%s: got %v, want ErrResponseTooLarge naming the operation", mode, err)
			}
		}
		mode := "exact"
		if _, err := c.ListCustomersWithResponse(t.Context(), &api.ListCustomersParams{Search: &mode}); err != nil {
			t.Errorf("a body of exactly the limit: %v", err)
		}
		if n := len(srv.requests()); n != 3 {
			t.Errorf("the server saw %d requests, want 3 (none retried)", n)
		}
	}},

	{"server stalls after the headers: the context's deadline ends the call", func(t *testing.T, h *harness) {
		srv := newRawFaultServer(t, stallAfterHeaders)
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(ctx, nil)
		h.record(err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want context.DeadlineExceeded", err)
		}
		notAPIError(t, err)
		within(t, start, 5*time.Second)
	}},

	{"server stalls after the headers: the client's timeout ends the call", func(t *testing.T, h *harness) {
		srv := newRawFaultServer(t, stallAfterHeaders)
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		c := h.client(srv.URL, nil, kelviq.WithHTTPClient(&http.Client{Transport: tr, Timeout: 200 * time.Millisecond}))
		start := time.Now()
		_, err := c.ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		var netErr net.Error
		if !errors.As(err, &netErr) || !netErr.Timeout() {
			t.Errorf("got %v, want a timeout", err)
		}
		notAPIError(t, err)
		within(t, start, 5*time.Second)
	}},

	{"redirect to another loopback host: no credential arrives there", func(t *testing.T, h *harness) {
		other := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			switch r.URL.Path {
			case "/partner/organizations/":
				writeJSON(w, 200, `{"count":0,"results":[]}`)
			default:
				writeJSON(w, 200, onePage)
			}
		})
		otherURL, _ := url.Parse(other.URL)
		_, port, _ := net.SplitHostPort(otherURL.Host)
		origin := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			target := other.URL // 127.0.0.1, another port
			if r.URL.Query().Get("search") == "by-name" {
				target = "http://localhost:" + port // another host name
			}
			http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
		})
		c := h.client(origin.URL, nil)
		byName := "by-name"
		for _, params := range []*api.ListCustomersParams{nil, {Search: &byName}} {
			res, err := c.ListCustomersWithResponse(t.Context(), params)
			h.record(err)
			if err != nil || res.JSON200 == nil {
				t.Fatalf("got %v, %v; want the other host's answer", res, err)
			}
		}
		if _, err := c.ListPartnerOrganizationsWithResponse(t.Context(), nil); err != nil {
			h.record(err)
			t.Fatal(err)
		}
		for _, r := range origin.requests() {
			if r.Path == "/customers/" && r.Header.Get("Authorization") != "Bearer "+faultServerKey {
				t.Errorf("the origin did not get the server key on %s", r.Path)
			}
			if r.Path == "/partner/organizations/" && r.Header.Get("X-Kelviq-Partner-Key") != faultPartnerKey {
				t.Errorf("the origin did not get the partner key on %s", r.Path)
			}
		}
		reqs := other.requests()
		if len(reqs) != 3 {
			t.Fatalf("the other host saw %d requests, want 3", len(reqs))
		}
		for _, r := range reqs {
			for _, name := range []string{"Authorization", "X-Kelviq-Partner-Key"} {
				if v := r.Header.Get(name); v != "" {
					t.Errorf("the other host received %s on %s", name, r.Path)
				}
			}
		}
	}},

	{"redirect on the same host keeps the credential", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				http.Redirect(w, r, "/customers/?page=1", http.StatusFound)
				return
			}
			writeJSON(w, 200, onePage)
		})
		_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		if err != nil {
			t.Fatal(err)
		}
		reqs := srv.requests()
		if len(reqs) != 2 || reqs[1].Header.Get("Authorization") != "Bearer "+faultServerKey {
			t.Errorf("the second hop lost the key, or %d requests", len(reqs))
		}
	}},

	{"downloadCatalogPlanFile returns its 302 and Location, not followed", func(t *testing.T, h *harness) {
		storage := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			_, _ = io.WriteString(w, "%PDF")
		})
		signed := storage.URL + "/files/plan.pdf?X-Amz-Signature=abc"
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			http.Redirect(w, r, signed, http.StatusFound)
		})
		res, err := h.client(srv.URL, nil).DownloadCatalogPlanFileWithResponse(t.Context(), "pro", [16]byte{1})
		h.record(err)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode() != 302 || res.Headers302 == nil || *res.Headers302.Location != signed || res.HTTPResponse.Header.Get("Location") != signed {
			t.Errorf("status %d, headers %+v", res.StatusCode(), res.Headers302)
		}
		if n := len(storage.requests()); n != 0 {
			t.Errorf("the redirect was followed: storage saw %d requests", n)
		}
		if reqs := srv.requests(); len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "" || reqs[0].Header.Get("X-Kelviq-Partner-Key") != "" {
			t.Errorf("the download (security: []) carried a key, or %d requests", len(reqs))
		}
	}},

	{"cancelled context: returns promptly with context.Canceled", func(t *testing.T, h *harness) {
		srv := newRawFaultServer(t, func(s *faultServer) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.add(r)
				s.stall(r) // no headers, ever
			})
		})
		c := h.client(srv.URL, nil)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.ListCustomersWithResponse(ctx, nil)
		h.record(err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		notAPIError(t, err)
		within(t, start, 5*time.Second)
		if n := len(srv.requests()); n != 1 {
			t.Errorf("the server saw %d requests, want 1 (no retry once cancelled)", n)
		}
		// Cancelled before the call: nothing is sent.
		_, err = c.ListCustomersWithResponse(ctx, nil)
		h.record(err)
		if !errors.Is(err, context.Canceled) || len(srv.requests()) != 1 {
			t.Errorf("got %v and %d requests", err, len(srv.requests()))
		}
	}},

	{"cancelled during a Retry-After wait: returns promptly with context.Canceled", func(t *testing.T, h *harness) {
		h.realSleep = true
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "10") // within the client's 20s timeout
			writeJSON(w, 503, `{}`)
		})
		c := h.client(srv.URL, nil)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.ListCustomersWithResponse(ctx, nil)
		h.record(err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		within(t, start, 5*time.Second)
		if n := len(srv.requests()); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	}},

	{"connection refused: retried, then a network error", func(t *testing.T, h *harness) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close() // nothing listens there now
		_, err = h.client("http://"+addr, nil).ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		notAPIError(t, err)
		var urlErr *url.Error
		if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &urlErr) {
			t.Errorf("got %v, want a *url.Error wrapping ECONNREFUSED", err)
		}
		if w := h.gotWaits(); len(w) != 2 {
			t.Errorf("waits %v, want 2 retries", w)
		}
	}},

	{"declared and undeclared error statuses become *kelviq.Error with the body's details", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("X-Request-Id", "req_"+strconv.Itoa(n))
			switch r.URL.Path {
			case "/orders/ord_1/":
				writeJSON(w, 404, `{"detail":"Order not found."}`)
			case "/refunds/":
				writeJSON(w, 400, `{"error":"Invalid refund.","amountUnits":["Ensure this value is greater than 0."]}`)
			case "/partner/organizations/":
				writeJSON(w, 409, `{"status":"Conflict","message":"externalId acme-42 exists"}`)
			case "/customers/":
				writeJSON(w, 401, `{"detail":"Invalid token."}`)
			}
		})
		c := h.client(srv.URL, nil)
		ctx := t.Context()
		_, err := c.RetrieveOrderWithResponse(ctx, "ord_1")
		h.record(err)
		if e := asAPIError(t, err); !errors.Is(err, kelviq.ErrNotFound) || e.Message != "Order not found." || e.PathTemplate != "/orders/{id}/" || e.Operation != "retrieveOrder" || e.RequestID != "req_1" {
			t.Errorf("404: %+v", e)
		}
		_, err = c.CreateRefundWithResponse(ctx, api.RefundCreateRequest{OrderID: "ord_1"})
		h.record(err)
		if e := asAPIError(t, err); e.StatusCode != 400 || e.Message != "Invalid refund." || len(e.FieldErrors["amountUnits"]) != 1 {
			t.Errorf("400: %+v", e)
		}
		_, err = c.ProvisionPartnerOrganizationWithResponse(ctx, api.PartnerOrganizationProvisionRequest{Email: "a@example.com", ExternalID: "acme-42"})
		h.record(err)
		if e := asAPIError(t, err); !errors.Is(err, kelviq.ErrConflict) || e.Message != "externalId acme-42 exists" {
			t.Errorf("409: %+v", e)
		}
		_, err = c.ListCustomersWithResponse(ctx, nil)
		h.record(err)
		if e := asAPIError(t, err); !errors.Is(err, kelviq.ErrUnauthorized) || errors.Is(err, kelviq.ErrForbidden) || e.Message != "Invalid token." {
			t.Errorf("401: %+v", e)
		}
		if n := len(srv.requests()); n != 4 {
			t.Errorf("the server saw %d requests, want 4 (4xx are not retried)", n)
		}
	}},

	{"a server echoing the keys: the error shows none of them", func(t *testing.T, h *harness) {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			auth, partner := r.Header.Get("Authorization"), r.Header.Get("X-Kelviq-Partner-Key")
			w.Header().Set("X-Request-Id", "for "+auth+partner)
			body, _ := json.Marshal(map[string]any{
				"detail":             "Invalid token: " + auth + partner,
				auth + partner:       []string{"key " + auth + partner + " is revoked"},
				"billingAddress":     map[string]any{partner + auth: []string{auth}},
				"non_field_errors":   []string{auth, partner},
				"debug_request_echo": auth + partner,
			})
			writeJSON(w, 401, string(body))
		})
		c := h.client(srv.URL, nil)
		_, err := c.ListCustomersWithResponse(t.Context(), nil)
		h.record(err)
		if e := asAPIError(t, err); !strings.Contains(e.Message, "[redacted]") {
			t.Errorf("message %q", e.Message)
		}
		_, err = c.ListPartnerOrganizationsWithResponse(t.Context(), nil)
		h.record(err)
		asAPIError(t, err)
		if s := fmt.Sprintf("%v %+v", err, err); strings.Contains(s, secretMarker) {
			t.Errorf("the error shows a key: %s", s)
		}
	}},
}

// stallAfterHeaders answers 200 with JSON headers and the start of a body,
// then sends nothing more until the client goes away or the test ends.
func stallAfterHeaders(srv *faultServer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.add(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"count":1,"results":[`)
		w.(http.Flusher).Flush()
		srv.stall(r)
	})
}

// notifyTransport calls notify when a response's headers have arrived.
type notifyTransport struct {
	next   http.RoundTripper
	notify func()
}

func (n *notifyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(r)
	if err == nil {
		n.notify()
	}
	return resp, err
}

func TestFaults(t *testing.T) {
	for _, fc := range faultCases {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			fc.run(t, newHarness(t))
		})
	}
}

// One client shared by many goroutines, with retries, errors, redirects and
// iterators all at once: run with -race.
func TestSharedClientManyGoroutines(t *testing.T) {
	var calls atomic.Int64
	var failedOnce sync.Map // X-Test-Call → true once it has failed
	pages := newPager(t, 250)
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		id := r.Header.Get("X-Test-Call")
		if _, dup := failedOnce.LoadOrStore(id, true); !dup {
			writeJSON(w, 503, `{"detail":"busy"}`) // every request fails once
			return
		}
		switch {
		case r.Method == "POST":
			writeJSON(w, 201, `{"customerId":"cus_new"}`)
		case strings.HasPrefix(r.URL.Path, "/orders/"):
			writeJSON(w, 404, `{"detail":"Order not found."}`)
		default:
			pages.ServeHTTP(w, r)
		}
	})
	h := newHarness(t)
	c := h.client(srv.URL, nil)
	tag := func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-Test-Call", strconv.FormatInt(calls.Add(1), 10))
		return nil
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 4 {
				switch (g + i) % 4 {
				case 0:
					n := 0
					for _, err := range c.ListCustomersIter(ctx, nil, tag) {
						if err != nil {
							t.Error(err)
							return
						}
						n++
					}
					if n != 250 {
						t.Errorf("iterator: %d items, want 250", n)
					}
				case 1:
					// POST: fails once, and is not retried
					_, err := c.CreateCustomerWithResponse(ctx, api.CustomerCreateRequest{CustomerID: "cus_new"}, tag)
					if !errors.Is(err, kelviq.ErrServerError) {
						t.Errorf("POST: %v", err)
					}
				case 2:
					_, err := c.RetrieveOrderWithResponse(ctx, "ord_"+strconv.Itoa(g), tag)
					if !errors.Is(err, kelviq.ErrNotFound) {
						t.Errorf("GET order: %v", err)
					}
				case 3:
					res, err := c.ListCustomersWithResponse(ctx, nil, tag)
					if err != nil || len(res.JSON200.Results) != 10 {
						t.Errorf("GET customers: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
}
