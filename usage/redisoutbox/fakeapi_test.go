package redisoutbox_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// pair is a (customer, feature).
type pair struct{ customer, feature string }

// got is one reportUsage request the fake applied.
type got struct {
	pair
	value     int
	userAgent string
	at        time.Time
}

// fakeAPI is a loopback kelviq that keeps usage as kelviq does (DELTA
// adds, SET replaces), answers at once, and records every request and any
// two requests for one pair that overlapped, whatever process sent them.
type fakeAPI struct {
	srv *httptest.Server

	mu       sync.Mutex
	key      string // the accepted server key
	usage    map[pair]int
	requests []got
	refused  int
	inflight map[pair]int
	overlaps []string
	// hold, when not nil, keeps every request open until it is closed or
	// the client goes away (then the request is not applied).
	hold    chan struct{}
	holding int
}

const goodKey = "sk_test_fleet"

func newFakeAPI(t testing.TB) *fakeAPI {
	t.Helper()
	f := &fakeAPI{key: goodKey, usage: map[pair]int{}, inflight: map[pair]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/report/usage/" {
		http.Error(w, `{"detail":"not found"}`, http.StatusNotFound)
		return
	}
	f.mu.Lock()
	key := f.key
	f.mu.Unlock()
	if req.Header.Get("Authorization") != "Bearer "+key {
		f.mu.Lock()
		f.refused++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"detail":"invalid server key"}`))
		return
	}
	var body api.ReportUsageRequest
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		return // the client went away mid-body: nothing arrived
	}
	p := pair{body.CustomerID, body.FeatureID}
	f.mu.Lock()
	f.inflight[p]++
	if f.inflight[p] > 1 {
		f.overlaps = append(f.overlaps, fmt.Sprintf("%v: %d requests at once (this one from %s)", p, f.inflight[p], req.UserAgent()))
	}
	hold := f.hold
	if hold != nil {
		f.holding++
	}
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
			f.mu.Lock()
			f.inflight[p]--
			f.holding--
			f.mu.Unlock()
			return
		}
	}
	f.mu.Lock()
	if hold != nil {
		f.holding--
	}
	if body.Behaviour == api.ReportUsageRequestBehaviourSET {
		f.usage[p] = body.Value
	} else {
		f.usage[p] += body.Value
	}
	f.requests = append(f.requests, got{pair: p, value: body.Value, userAgent: req.UserAgent(), at: time.Now()})
	// Before the answer: the next request for the pair may come as soon
	// as the client has it.
	f.inflight[p]--
	n := len(f.requests)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"customerId": body.CustomerID, "featureId": body.FeatureID, "value": body.Value,
		"behaviour": body.Behaviour, "idempotencyKey": "k" + strconv.Itoa(n),
	})
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

func (f *fakeAPI) overlapping() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.overlaps...)
}

// newKelviq returns a client of baseURL with key that leaves every retry
// to the Reporter.
func newKelviq(t testing.TB, baseURL, key, userAgent string) *kelviq.Client {
	t.Helper()
	c, err := kelviq.NewClient(kelviq.WithBaseURL(baseURL), kelviq.WithServerKey(key), kelviq.WithRetries(0), kelviq.WithUserAgent(userAgent))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// deadURL returns a loopback URL nothing listens on.
func deadURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

func tri(n int) int { return n * (n + 1) / 2 }

// subsetSum says whether x is the sum of some of items (each at most once).
func subsetSum(x int, items []int) bool {
	if x < 0 {
		return false
	}
	total := 0
	for _, v := range items {
		if v > 0 {
			total += v
		}
	}
	if x > total {
		return false
	}
	can := make([]bool, x+1)
	can[0] = true
	for _, v := range items {
		if v <= 0 {
			continue
		}
		for s := x; s >= v; s-- {
			if can[s-v] {
				can[s] = true
			}
		}
	}
	return can[x]
}
