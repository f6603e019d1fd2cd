package usage_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// pair is a (customer, feature).
type pair struct{ customer, feature string }

// got is one request the fake API received.
type got struct {
	pair
	behaviour api.ReportUsageRequestBehaviour
	value     int
	userAgent string
}

// fakeAPI is a loopback kelviq that keeps the usage reportUsage reports,
// as kelviq does: SET replaces, DELTA adds.
type fakeAPI struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	usage    map[pair]int
	requests []got
	// answer, when set, says how to answer request number n (0-based):
	// a status, headers, and whether to apply the report anyway.
	answer func(n int, g got) (status int, header http.Header, apply bool)
}

// newFakeAPI starts a fake API on addr ("" for any loopback port).
func newFakeAPI(t testing.TB, addr string) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, usage: map[pair]int{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listening again on %s: %v", addr, err)
		}
		srv.Listener = l
	}
	srv.Start()
	f.srv = srv
	t.Cleanup(srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/report/usage/" {
		http.Error(w, `{"detail":"not found"}`, http.StatusNotFound)
		return
	}
	if req.Header.Get("Authorization") != "Bearer sk_test_usage" {
		http.Error(w, `{"detail":"bad key"}`, http.StatusUnauthorized)
		return
	}
	var body api.ReportUsageRequest
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		return // the connection broke mid-body: nothing arrived
	}
	g := got{pair: pair{body.CustomerID, body.FeatureID}, behaviour: body.Behaviour, value: body.Value, userAgent: req.UserAgent()}
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, g)
	status, header, apply := http.StatusOK, http.Header(nil), true
	if f.answer != nil {
		status, header, apply = f.answer(n, g)
	}
	if apply {
		if g.behaviour == api.ReportUsageRequestBehaviourSET {
			f.usage[g.pair] = g.value
		} else {
			f.usage[g.pair] += g.value
		}
	}
	f.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status/100 == 2 {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"customerId": g.customer, "featureId": g.feature, "value": g.value,
			"behaviour": g.behaviour, "idempotencyKey": "k" + strconv.Itoa(n),
		})
		return
	}
	_, _ = w.Write([]byte(`{"message":"refused by the fake"}`))
}

func (f *fakeAPI) setAnswer(a func(n int, g got) (int, http.Header, bool)) {
	f.mu.Lock()
	f.answer = a
	f.mu.Unlock()
}

func (f *fakeAPI) sum(p pair) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage[p]
}

func (f *fakeAPI) received() []got {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]got(nil), f.requests...)
}

// newClient returns a client of baseURL that leaves every retry to the
// Reporter.
func newClient(t testing.TB, baseURL string, extra ...kelviq.Option) *kelviq.Client {
	t.Helper()
	opts := append([]kelviq.Option{kelviq.WithBaseURL(baseURL), kelviq.WithServerKey("sk_test_usage"), kelviq.WithRetries(0)}, extra...)
	c, err := kelviq.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// deadAddr returns a loopback address nothing listens on (until a test
// listens on it again).
func deadAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// newStuckAPI returns a fake API whose requests hang until the test ends:
// none is ever answered.
func newStuckAPI(t testing.TB) *fakeAPI {
	t.Helper()
	release := make(chan struct{})
	stuck := newFakeAPI(t, "")
	stuck.setAnswer(func(int, got) (int, http.Header, bool) {
		<-release
		return http.StatusOK, nil, false
	})
	t.Cleanup(func() { close(release) })
	return stuck
}

// newRedirectingAPI returns a server that answers the reportUsage POST
// with a redirect of status to /elsewhere/, served by elsewhere.
func newRedirectingAPI(t testing.TB, status int, elsewhere http.HandlerFunc) (srv *httptest.Server, posts *atomic.Int32) {
	t.Helper()
	posts = new(atomic.Int32)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /report/usage/", func(w http.ResponseWriter, req *http.Request) {
		posts.Add(1)
		http.Redirect(w, req, "/elsewhere/", status)
	})
	mux.HandleFunc("/elsewhere/", elsewhere)
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, posts
}
