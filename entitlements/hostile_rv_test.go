package entitlements_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
)

// lateSaveStore is a mapStore whose Save waits for a gate (ignoring its
// context, as go-redis with its defaults does for a stopped server), then
// lands: a save that answers after the Checker's store budget.
type lateSaveStore struct {
	mapStore
	saving chan struct{} // a Save started
	gate   chan struct{} // closed: the Save goes on
	saved  chan struct{} // a Save landed
}

func (s *lateSaveStore) Save(ctx context.Context, key string, r entitlements.Record, ttl time.Duration) error {
	s.saving <- struct{}{}
	<-s.gate
	err := s.mapStore.Save(ctx, key, r, ttl)
	s.saved <- struct{}{}
	return err
}

// A save that is still running past the store's budget when the customer
// is invalidated must not leave the answer from before the invalidation in
// the store: Invalidate promises that a fetch in progress is cached
// neither in memory nor in the store, and a save that lands after the
// delete serves the revoked customer its old grant to every instance (and
// to this one after a restart) for the rest of the TTL.
func TestLateSaveAfterInvalidateIsDeleted(t *testing.T) {
	s := &lateSaveStore{mapStore: mapStore{m: map[string]entitlements.Record{}}, saving: make(chan struct{}, 1), gate: make(chan struct{}), saved: make(chan struct{}, 1)}
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithStore(s), entitlements.WithStoreTimeout(10*time.Millisecond))
	mustHave(t, c, "cust", "sso", true) // the save runs on past its budget
	<-s.saving
	// kelviq revokes the feature; its webhook invalidates the customer.
	f.set("cust", `[{"featureId":"sso","featureType":"BOOLEAN","hasAccess":false}]`)
	c.Invalidate("cust")
	close(s.gate) // the late save lands now
	select {
	case <-s.saved:
	case <-time.After(10 * time.Second):
		t.Fatal("the save never landed")
	}
	// Another instance (or this app after a restart) reads the store.
	other, _ := newChecker(t, f, entitlements.WithStore(s), entitlements.WithClock(clk.Now))
	waitFor(t, "the late save's record to go", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.m["production:cust"]
		return !ok
	})
	mustHave(t, other, "cust", "sso", false)
}

// scriptedStore answers its Loads in turn: the first misses, the second
// waits for gate and then returns rec, any later one fails.
type scriptedStore struct {
	mapStore
	mu2     sync.Mutex
	loads   int
	rec     entitlements.Record
	blocked chan struct{}
	gate    chan struct{}
}

func (s *scriptedStore) Load(context.Context, string) (entitlements.Record, bool, error) {
	s.mu2.Lock()
	s.loads++
	n := s.loads
	s.mu2.Unlock()
	switch n {
	case 1:
		return entitlements.Record{}, false, nil
	case 2:
		close(s.blocked)
		<-s.gate
		return s.rec, true, nil
	}
	return entitlements.Record{}, false, errors.New("scripted failure")
}

// A store read made during an unknown customer's failure pause that
// answers after kelviq has answered for the customer (the pause ended and
// the next check fetched it) must not replace that newer answer with the
// store's older record: the customer was revoked, and the old grant would
// stand in memory as fresh for the rest of the record's TTL.
func TestLateStoreReadDoesNotReplaceNewerAnswer(t *testing.T) {
	f := newFakeAPI(t)
	f.fail(http.StatusServiceUnavailable)
	clk := newClock()
	s := &scriptedStore{mapStore: mapStore{m: map[string]entitlements.Record{}}, blocked: make(chan struct{}), gate: make(chan struct{}),
		rec: entitlements.Record{FetchedAt: clk.Now().Add(-time.Second), Body: []byte(`{"customerId":"cust","entitlements":[` + boolOn + `]}`)}}
	c, err := entitlements.New(f.client(t), entitlements.WithClock(clk.Now), entitlements.WithStore(s), entitlements.WithStoreTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.HasAccess(context.Background(), "cust", "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("first check: %v, want ErrUnavailable", err)
	}
	early := make(chan struct{})
	go func() { // in the pause: reads the store, which answers late
		defer close(early)
		_, _ = c.HasAccess(context.Background(), "cust", "sso")
	}()
	<-s.blocked
	clk.advance(2 * time.Second) // the pause is over; kelviq answers: revoked
	f.set("cust", `[{"featureId":"sso","featureType":"BOOLEAN","hasAccess":false}]`)
	f.fail(0)
	mustHave(t, c, "cust", "sso", false)
	close(s.gate)
	<-early
	mustHave(t, c, "cust", "sso", false)
}

// The failures an outage leaves remembered (a kept copy's lastErr for each
// known customer, a failure for each unknown one) must not pin the error
// pages that came with them: an outage behind a proxy answers every
// customer with the same few KiB of HTML, and kelviq.Error keeps up to
// 64 KiB of body. 2,000 unknown customers failing with a 60 KiB 503 page
// held about 120 MB until their pauses were forgotten.
func TestRememberedFailuresDoNotPinErrorBodies(t *testing.T) {
	f := newFakeAPI(t)
	page := strings.Repeat("<p>upstream unavailable</p>", 60<<10/27)
	f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(page))
	}))
	c, _ := newChecker(t, f)
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	_, err := c.HasAccess(context.Background(), "warm-up", "sso")
	var apiErr *kelviq.Error
	if !errors.As(err, &apiErr) || len(apiErr.Body) == 0 {
		t.Fatalf("first failure: %v; want a *kelviq.Error with the page as its Body", err)
	}
	before := heap()
	customers := 2000
	if raceEnabled {
		customers = 500
	}
	for i := range customers {
		if _, err := c.HasAccess(context.Background(), fmt.Sprint("cust-", i), "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
			t.Fatalf("cust-%d: %v", i, err)
		}
	}
	after := heap()
	runtime.KeepAlive(c)
	growth := int64(after) - int64(before)
	t.Logf("heap growth after %d failed customers with a 60 KiB error page: %.1f MB", customers, float64(growth)/1e6)
	if limit := int64(customers) * 4 << 10; growth > limit {
		t.Fatalf("heap grew by %.1f MB, want under %.1f MB (4 KiB a customer): the error pages are pinned", float64(growth)/1e6, float64(limit)/1e6)
	}
	// A check in the pause still says what failed.
	if _, err := c.HasAccess(context.Background(), "cust-1", "sso"); !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("in the pause: %v; want the 503 kept", err)
	}
}

// A 200 whose body has no entitlements list ({} from a gateway, or
// "entitlements": null) is no answer: read as an empty list, it denied every
// feature of every customer as "not in the plan" (false, nil) for the TTL,
// and replaced the last known answer in the store for every instance.
func TestAnswerWithoutEntitlementsListIsNoAnswer(t *testing.T) {
	for _, body := range []string{`{}`, `{"customerId":"cust"}`, `{"customerId":"cust","entitlements":null}`} {
		f := newFakeAPI(t)
		f.set("cust", `[`+boolOn+`]`)
		c, clk := newChecker(t, f)
		mustHave(t, c, "cust", "sso", true)
		clk.advance(entitlements.DefaultTTL)
		f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		e, err := c.Get(context.Background(), "cust", "sso")
		if err != nil || !e.HasAccess || !e.Stale {
			t.Errorf("%s: Get = %+v, %v; want the last known answer, stale", body, e, err)
		}
		ok, err := c.HasAccess(context.Background(), "never-seen", "sso")
		if ok || err == nil || !errors.Is(err, kelviq.ErrUnexpectedResponse) {
			t.Errorf("%s, a customer never seen: HasAccess = %v, %v; want an error wrapping ErrUnexpectedResponse, not (false, nil)", body, ok, err)
		}
	}
}

// kelviq's definite answer (the customer does not exist any more, 404)
// erases what is known of the customer, in the store too; a save of an
// earlier grant still running past the store's budget must not put it
// back after that delete.
func TestLateSaveAfterDefiniteAnswerIsDeleted(t *testing.T) {
	s := &lateSaveStore{mapStore: mapStore{m: map[string]entitlements.Record{}}, saving: make(chan struct{}, 1), gate: make(chan struct{}), saved: make(chan struct{}, 1)}
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithStore(s), entitlements.WithStoreTimeout(10*time.Millisecond))
	mustHave(t, c, "cust", "sso", true) // the save runs on past its budget
	<-s.saving
	clk.advance(entitlements.DefaultTTL + 2*time.Second) // expired; the store's skip is over
	f.mu.Lock()
	delete(f.customers, "cust") // kelviq now answers 404
	f.mu.Unlock()
	if ok, err := c.HasAccess(context.Background(), "cust", "sso"); ok || err == nil {
		t.Fatalf("after the 404: %v, %v; want the error", ok, err)
	}
	close(s.gate)
	select {
	case <-s.saved:
	case <-time.After(10 * time.Second):
		t.Fatal("the save never landed")
	}
	waitFor(t, "the late save's record to go", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.m["production:cust"]
		return !ok
	})
}
