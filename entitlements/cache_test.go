package entitlements_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
)

// 100 concurrent checks of a cold customer, of different features, make
// exactly one request.
func TestConcurrentColdChecksShareOneRequest(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`,`+meterTen+`]`)
	release := f.hold()
	c, _ := newChecker(t, f)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		feature := []string{"sso", "api-calls"}[i%2]
		wg.Go(func() {
			ok, err := c.HasAccess(context.Background(), "cust", feature)
			if err == nil && !ok {
				err = errors.New(feature + ": no access")
			}
			errs <- err
		})
	}
	// Hold the one request until every check is waiting, then answer.
	waitFor(t, "100 misses", func() bool { return c.Stats().Misses == 100 })
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("100 concurrent checks made %d requests, want 1", got)
	}
	if st := c.Stats(); st.APICalls != 1 || st.Misses != 100 {
		t.Errorf("Stats = %+v, want 1 API call and 100 misses", st)
	}
}

// Within the TTL every check is a hit; at the TTL, one refetch serves all
// the features again.
func TestOneRefetchAfterTTL(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`,`+meterTen+`]`)
	c, clk := newChecker(t, f, entitlements.WithTTL(time.Minute))
	mustHave(t, c, "cust", "sso", true)
	mustHave(t, c, "cust", "api-calls", true)
	mustHave(t, c, "cust", "absent", false)
	clk.advance(time.Minute - time.Nanosecond)
	mustHave(t, c, "cust", "sso", true)
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("within the TTL: %d calls, want 1", got)
	}
	f.set("cust", `[`+meterTen+`]`) // sso revoked upstream
	clk.advance(time.Nanosecond)
	mustHave(t, c, "cust", "sso", false)
	mustHave(t, c, "cust", "api-calls", true)
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("after the TTL: %d calls, want 2", got)
	}
	st := c.Stats()
	if st.Hits != 4 || st.Misses != 2 || st.APICalls != 2 || st.Errors != 0 {
		t.Errorf("Stats = %+v, want 4 hits, 2 misses, 2 calls", st)
	}
}

// A feature the customer lacks: HasAccess (false, nil), Get
// ErrFeatureNotFound, and no extra call.
func TestAbsentFeature(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, _ := newChecker(t, f)
	mustHave(t, c, "cust", "exports", false)
	_, err := c.Get(context.Background(), "cust", "exports")
	if !errors.Is(err, entitlements.ErrFeatureNotFound) || !strings.Contains(err.Error(), `"exports"`) {
		t.Fatalf("Get = %v, want ErrFeatureNotFound naming the feature", err)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("%d calls, want 1", got)
	}
}

// Memory holds at most WithMaxCustomers customers, the least recently
// checked evicted first.
func TestMaxCustomersEvictsLeastRecentlyUsed(t *testing.T) {
	f := newFakeAPI(t)
	for _, id := range []string{"a", "b", "c"} {
		f.set(id, `[`+boolOn+`]`)
	}
	c, _ := newChecker(t, f, entitlements.WithMaxCustomers(2))
	mustHave(t, c, "a", "sso", true)
	mustHave(t, c, "b", "sso", true)
	mustHave(t, c, "a", "sso", true) // a is now the most recent
	mustHave(t, c, "c", "sso", true) // evicts b
	if got := f.calls.Load(); got != 3 {
		t.Fatalf("%d calls, want 3", got)
	}
	mustHave(t, c, "a", "sso", true)
	if got := f.calls.Load(); got != 3 {
		t.Fatalf("a was evicted (%d calls), want b evicted", got)
	}
	mustHave(t, c, "b", "sso", true)
	if got := f.calls.Load(); got != 4 {
		t.Fatalf("b was kept (%d calls), want it evicted", got)
	}
}

// Invalidate forgets the customer: the next check asks kelviq.
func TestInvalidate(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, _ := newChecker(t, f)
	mustHave(t, c, "cust", "sso", true)
	f.set("cust", `[]`)
	mustHave(t, c, "cust", "sso", true) // cached
	c.Invalidate("cust")
	c.Invalidate("never-seen") // harmless
	c.Invalidate("")           // harmless
	mustHave(t, c, "cust", "sso", false)
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2", got)
	}
}

// A fetch in progress when the customer is invalidated answers its waiting
// checks but is not cached: the next check asks again.
func TestInvalidateDuringFetch(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	release := f.hold()
	c, _ := newChecker(t, f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.HasAccess(context.Background(), "cust", "sso")
	}()
	waitFor(t, "the request", func() bool { return f.calls.Load() == 1 })
	c.Invalidate("cust")
	release()
	<-done
	f.set("cust", `[]`)
	mustHave(t, c, "cust", "sso", false)
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2: the invalidated fetch was cached", got)
	}
}

// With refresh-ahead, a customer checked near the end of its TTL is
// refreshed in the background, so checks never miss.
func TestRefreshAhead(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithTTL(time.Minute), entitlements.WithRefreshAhead(10*time.Second))
	mustHave(t, c, "cust", "sso", true)
	clk.advance(45 * time.Second) // not yet in the window
	mustHave(t, c, "cust", "sso", true)
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("before the window: %d calls, want 1", got)
	}
	clk.advance(10 * time.Second) // 55 s: in the last 10 s
	for range 20 {
		mustHave(t, c, "cust", "sso", true) // hits; one starts the refresh
	}
	refreshedAt := clk.Now()
	waitFor(t, "the refreshed answer", func() bool {
		e, err := c.Get(context.Background(), "cust", "sso")
		return err == nil && e.FetchedAt.Equal(refreshedAt)
	})
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("%d calls, want 2: one refresh", got)
	}
	clk.advance(10 * time.Second) // 65 s: the first answer has expired, not the refreshed one
	mustHave(t, c, "cust", "sso", true)
	st := c.Stats()
	if st.Misses != 1 || st.APICalls != 2 {
		t.Errorf("Stats = %+v, want 1 miss (the first check) and 2 calls", st)
	}
}

// Get and All return copies: changing them changes nothing cached.
func TestResultsAreCopies(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+meterTen+`]`)
	c, _ := newChecker(t, f)
	e, err := c.Get(context.Background(), "cust", "api-calls")
	if err != nil {
		t.Fatal(err)
	}
	*e.Remaining = 1000
	*e.Items[0].FeatureID = "hijacked"
	e.Items[0].HasAccess = nil
	all, _ := c.All(context.Background(), "cust")
	ent := all["api-calls"]
	*ent.UsageLimit = -1
	e2, err := c.Get(context.Background(), "cust", "api-calls")
	if err != nil {
		t.Fatal(err)
	}
	if *e2.Remaining != 6 || *e2.UsageLimit != 10 || *e2.Items[0].FeatureID != "api-calls" || e2.Items[0].HasAccess == nil {
		t.Fatalf("the cache was changed through a result: %+v", e2)
	}
}

// Empty IDs are refused with a clear error, without a call.
func TestInvalidArguments(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := newChecker(t, f)
	ctx := context.Background()
	if ok, err := c.HasAccess(ctx, "", "sso"); ok || err == nil || !strings.Contains(err.Error(), "empty customer ID") {
		t.Errorf("HasAccess with no customer: %v, %v", ok, err)
	}
	if ok, err := c.HasAccess(ctx, "cust", ""); ok || err == nil || !strings.Contains(err.Error(), "empty feature ID") {
		t.Errorf("HasAccess with no feature: %v, %v", ok, err)
	}
	if _, err := c.Get(ctx, "", "sso"); err == nil {
		t.Error("Get with no customer: no error")
	}
	if _, err := c.All(ctx, ""); err == nil || !strings.Contains(err.Error(), "empty customer ID") {
		t.Errorf("All with no customer: %v", err)
	}
	if got := f.calls.Load(); got != 0 {
		t.Errorf("%d calls for invalid arguments", got)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	f := newFakeAPI(t)
	cl := f.client(t)
	if _, err := entitlements.New(nil); err == nil || !strings.Contains(err.Error(), "nil *kelviq.Client") {
		t.Errorf("New(nil): %v", err)
	}
	for _, tc := range []struct {
		opt  entitlements.Option
		name string
	}{
		{entitlements.WithTTL(0), "WithTTL"},
		{entitlements.WithTTL(-time.Second), "WithTTL"},
		{entitlements.WithMaxCustomers(0), "WithMaxCustomers"},
		{entitlements.WithMaxStale(-1), "WithMaxStale"},
		{entitlements.WithMaxStaleFor("", time.Hour), "WithMaxStaleFor"},
		{entitlements.WithMaxStaleFor("sso", -1), "WithMaxStaleFor"},
		{entitlements.WithRefreshAhead(-1), "WithRefreshAhead"},
		{entitlements.WithRefreshAhead(time.Minute), "WithRefreshAhead"}, // not below the TTL
		{entitlements.WithFetchTimeout(0), "WithFetchTimeout"},
	} {
		if _, err := entitlements.New(cl, tc.opt); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("option %s: New error %v, want one naming it", tc.name, err)
		}
	}
	if _, err := entitlements.New(cl, nil, entitlements.WithTTL(time.Second), entitlements.WithMaxCustomers(100_000_000)); err != nil {
		t.Errorf("valid options refused: %v", err)
	}
}

// The store key is scoped to the client's environment.
func TestStoreKeyHasEnvironment(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	s := &mapStore{m: map[string]entitlements.Record{}}
	cl, err := kelviq.NewClient(kelviq.WithServerKey(testKey), kelviq.WithBaseURL(f.srv.URL), kelviq.WithEnvironment(kelviq.Sandbox), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := entitlements.New(cl, entitlements.WithStore(s))
	if err != nil {
		t.Fatal(err)
	}
	mustHave(t, c, "cust", "sso", true)
	if _, ok := s.m["sandbox:cust"]; !ok || len(s.m) != 1 {
		t.Fatalf("store keys %v, want sandbox:cust", s.m)
	}
}

// mapStore is a Store in a map.
type mapStore struct {
	mu sync.Mutex
	m  map[string]entitlements.Record
}

func (s *mapStore) Load(_ context.Context, key string) (entitlements.Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[key]
	return r, ok, nil
}

func (s *mapStore) Save(_ context.Context, key string, r entitlements.Record, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = r
	return nil
}

func (s *mapStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}
