package entitlements_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
)

// failingStore fails every operation and counts them.
type failingStore struct{ calls atomic.Int64 }

var errStoreDown = errors.New("store is down")

func (s *failingStore) Load(context.Context, string) (entitlements.Record, bool, error) {
	s.calls.Add(1)
	return entitlements.Record{}, false, errStoreDown
}

func (s *failingStore) Save(context.Context, string, entitlements.Record, time.Duration) error {
	s.calls.Add(1)
	return errStoreDown
}

func (s *failingStore) Delete(context.Context, string) error {
	s.calls.Add(1)
	return errStoreDown
}

// After a store failure the store is left alone for a second: a store that
// is down costs one failed call per second, not one per miss.
func TestFailingStoreIsLeftAloneForASecond(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	s := &failingStore{}
	c, clk := newChecker(t, f, entitlements.WithStore(s), entitlements.WithTTL(time.Millisecond))
	for range 10 {
		mustHave(t, c, "cust", "sso", true)
		clk.advance(time.Millisecond) // expired: each check misses
	}
	if got := s.calls.Load(); got != 1 {
		t.Fatalf("the store was called %d times within a second, want 1", got)
	}
	clk.advance(time.Second)
	mustHave(t, c, "cust", "sso", true)
	if got := s.calls.Load(); got != 2 {
		t.Fatalf("the store was called %d times after the second, want 2", got)
	}
	if st := c.Stats(); st.StoreErrors != 2 || st.Errors != 0 || st.APICalls != 11 {
		t.Errorf("Stats = %+v, want 2 store errors, no failed check, 11 calls", st)
	}
}

// A refresh ahead that fails keeps the fresh answer and is not retried on
// every hit: the customer expires as usual and then falls back.
func TestFailedRefreshAheadKeepsTheAnswer(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithTTL(time.Minute), entitlements.WithRefreshAhead(10*time.Second))
	mustHave(t, c, "cust", "sso", true)
	f.fail(http.StatusBadGateway)
	clk.advance(55 * time.Second)
	mustHave(t, c, "cust", "sso", true)
	waitFor(t, "the refresh", func() bool { return f.calls.Load() == 2 })
	for range 20 {
		mustHave(t, c, "cust", "sso", true)
	}
	if st := c.Stats(); st.APICalls != 2 || st.StaleAnswers != 0 {
		t.Fatalf("Stats = %+v: a failed refresh was retried on hits, or the fresh answer was lost", st)
	}
	clk.advance(10 * time.Second) // expired now
	e, err := c.Get(context.Background(), "cust", "sso")
	if err != nil || !e.Stale {
		t.Fatalf("after the TTL: %+v, %v; want the stale answer", e, err)
	}
}

// Logs of outages never contain the server key, whatever the API answers.
func TestLogsHoldNoKey(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	logs := &logBuffer{}
	c, clk := newChecker(t, f, entitlements.WithLogger(logs.logger()))
	mustHave(t, c, "cust", "sso", true)
	// The server echoes the key in its error body.
	f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"detail":"down; your header was ` + r.Header.Get("Authorization") + `"}`))
	}))
	clk.advance(entitlements.DefaultTTL)
	mustHave(t, c, "cust", "sso", true) // stale
	clk.advance(25 * time.Hour)
	_, err := c.HasAccess(context.Background(), "cust", "sso")
	if err == nil {
		t.Fatal("no error past max-stale")
	}
	if !strings.Contains(logs.String(), "is failing") {
		t.Fatalf("the outage was not logged:\n%s", logs)
	}
	for _, where := range []string{logs.String(), err.Error()} {
		if strings.Contains(where, testKey) {
			t.Fatalf("the server key leaked: %s", where)
		}
	}
}

// WithFetchTimeout bounds a call to a kelviq that does not answer, for a
// check whose own context has no deadline.
func TestFetchTimeout(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	release := f.hold()
	defer release()
	c, _ := newChecker(t, f, entitlements.WithFetchTimeout(50*time.Millisecond))
	ok, err := c.HasAccess(context.Background(), "cust", "sso")
	if ok || !errors.Is(err, entitlements.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("HasAccess = %v, %v; want false, ErrUnavailable wrapping context.DeadlineExceeded", ok, err)
	}
}
