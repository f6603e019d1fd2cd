package entitlements_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
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
