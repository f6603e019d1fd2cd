package entitlements_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/entitlements/redisstore"
	"github.com/kelviq/kelviq-go/internal/redistest"
)

// A hung Redis never costs kelviq's answer (issue 19.2): with go-redis's
// DEFAULT options (a 3 s ReadTimeout, 3 retries, a context it does not
// honour for socket reads) and redis-server stopped with SIGSTOP, a check
// of a customer missing from memory grants from kelviq within the store's
// budget plus the call, not after go-redis's 10 s; and the next customer
// does not wait for the store at all while it is failing.
func TestHungRedisWithDefaultOptionsDoesNotDeny(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr}) // go-redis's defaults
	f := newFakeAPI(t)
	f.set("a", `[`+boolOn+`]`)
	f.set("b", `[`+boolOn+`]`)
	c, err := entitlements.New(f.client(t), entitlements.WithStore(redisstore.New(rdb, "test:ent:")))
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Ping(context.Background()).Err(); err != nil { // a pooled connection
		t.Fatal(err)
	}
	srv.Pause()
	t.Cleanup(func() {
		srv.Resume()
		_ = rdb.Close()
	})
	for _, customer := range []string{"a", "b"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		ok, err := c.HasAccess(ctx, customer, "sso")
		took := time.Since(start)
		cancel()
		if !ok || err != nil {
			t.Fatalf("HasAccess(%s) with Redis stopped = %v, %v; want kelviq's grant", customer, ok, err)
		}
		t.Logf("HasAccess(%s) with Redis stopped: %v", customer, took)
		// The budget is 50 ms; generous for a loaded machine, and far
		// below go-redis's 3 s read timeout.
		if took > entitlements.DefaultStoreTimeout+2*time.Second {
			t.Errorf("HasAccess(%s) took %v: it waited for the hung store", customer, took)
		}
	}
	if st := c.Stats(); st.Fetched != 2 || st.StoreErrors == 0 {
		t.Errorf("Stats = %+v; want 2 fetched and the store's failure counted", st)
	}
}

// blockingStore never answers and ignores its context, as a Store on a
// client that does not honour it would.
type blockingStore struct {
	release chan struct{}
	mu      sync.Mutex
	running int
	most    int
}

func (s *blockingStore) block() {
	s.mu.Lock()
	s.running++
	s.most = max(s.most, s.running)
	s.mu.Unlock()
	<-s.release
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
}

func (s *blockingStore) Load(context.Context, string) (entitlements.Record, bool, error) {
	s.block()
	return entitlements.Record{}, false, nil
}

func (s *blockingStore) Save(context.Context, string, entitlements.Record, time.Duration) error {
	s.block()
	return nil
}

func (s *blockingStore) Delete(context.Context, string) error { return nil }

// A store that ignores its context costs a check WithStoreTimeout, then the
// check goes to kelviq; the store is left alone for a while after, and the
// operations left running are bounded.
func TestStoreThatIgnoresItsContextCostsItsBudget(t *testing.T) {
	s := &blockingStore{release: make(chan struct{})}
	defer close(s.release)
	f := newFakeAPI(t)
	for _, id := range []string{"a", "b", "c"} {
		f.set(id, `[`+boolOn+`]`)
	}
	c, err := entitlements.New(f.client(t), entitlements.WithStore(s), entitlements.WithStoreTimeout(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	mustHave(t, c, "a", "sso", true)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the check took %v with a 20 ms store budget", took)
	}
	mustHave(t, c, "b", "sso", true) // the store is skipped now
	if st := c.Stats(); st.StoreErrors != 1 || st.Fetched != 2 {
		t.Errorf("Stats = %+v; want one store failure (then skipped), 2 fetched", st)
	}
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if running != 1 {
		t.Errorf("%d store operations running, want the one past its budget", running)
	}
}

// Many misses at once against a hung store start at most a bounded number
// of store operations: each past its budget goes on in the background, and
// a hung store must not pile up goroutines.
func TestHungStoreOperationsAreBounded(t *testing.T) {
	s := &blockingStore{release: make(chan struct{})}
	f := newFakeAPI(t)
	f.set("x", `[`+boolOn+`]`)
	c, err := entitlements.New(f.client(t), entitlements.WithStore(s), entitlements.WithStoreTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for i := range 500 {
		wg.Go(func() { _, _ = c.HasAccess(ctx, "cust-"+string(rune('a'+i%26))+string(rune('a'+i/26)), "sso") })
	}
	wg.Wait()
	s.mu.Lock()
	most := s.most
	s.mu.Unlock()
	close(s.release)
	if most > 64 {
		t.Fatalf("%d store operations at once, want at most 64", most)
	}
	t.Logf("%d store operations at once for 500 misses; goroutines %d → %d", most, before, runtime.NumGoroutine())
}

// With Redis holding the customer's answer and kelviq failing, the first
// check of a fresh Checker answers from Redis: a fresh record without any
// call, an expired one (within max-stale) after one request that failed,
// not after a retry cycle, and stale.
func TestFreshCheckerAnswersFromRedisDuringOutage(t *testing.T) {
	_, _, store := sharedRedis(t)
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	first, clk := newChecker(t, f, entitlements.WithStore(store()))
	mustHave(t, first, "cust", "sso", true) // saved to Redis
	f.fail(http.StatusServiceUnavailable)

	fresh, _ := newChecker(t, f, entitlements.WithStore(store()), entitlements.WithClock(clk.Now))
	mustHave(t, fresh, "cust", "sso", true)
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("%d calls, want 1 (the first instance's): a fresh record was not used", got)
	}

	clk.advance(entitlements.DefaultTTL) // the record expires, within max-stale
	restarted, _ := newChecker(t, f, entitlements.WithStore(store()), entitlements.WithClock(clk.Now))
	start := time.Now()
	e, err := restarted.Get(context.Background(), "cust", "sso")
	took := time.Since(start)
	if err != nil || !e.HasAccess || !e.Stale {
		t.Fatalf("Get = %+v, %v; want Redis's answer, stale", e, err)
	}
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("%d requests for the first check, want 1", got-1)
	}
	if took > 2*time.Second {
		t.Errorf("the first check took %v", took)
	}
	// The pause after that failure: no call, Redis's value again.
	for range 10 {
		if e, err := restarted.Get(context.Background(), "cust", "sso"); err != nil || !e.Stale {
			t.Fatalf("Get = %+v, %v", e, err)
		}
	}
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("%d requests, want none during the pause", got-2)
	}
	if _, err := restarted.HasAccess(context.Background(), "never-seen", "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("a customer Redis does not hold: err = %v, want ErrUnavailable", err)
	}
}

// While kelviq is known to be failing for a customer with nothing known (the
// pause after its failed fetch), a record another instance saved to the
// store meanwhile is used instead of failing the check, without a call:
// fresh, it answers; expired within its bound, it is served stale.
func TestStoreIsReadDuringUnknownCustomersPause(t *testing.T) {
	s := &mapStore{m: map[string]entitlements.Record{}}
	f := newFakeAPI(t)
	f.fail(http.StatusServiceUnavailable)
	c, clk := newChecker(t, f, entitlements.WithStore(s))
	for _, customer := range []string{"fresh", "old"} {
		if _, err := c.HasAccess(context.Background(), customer, "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
	// Another instance, which kelviq answers, saves both meanwhile.
	body := func(customer string) []byte {
		return []byte(`{"customerId":"` + customer + `","entitlements":[` + boolOn + `]}`)
	}
	_ = s.Save(context.Background(), "production:fresh", entitlements.Record{FetchedAt: clk.Now(), Body: body("fresh")}, time.Hour)
	_ = s.Save(context.Background(), "production:old", entitlements.Record{FetchedAt: clk.Now().Add(-time.Hour), Body: body("old")}, time.Hour)
	mustHave(t, c, "fresh", "sso", true)
	e, err := c.Get(context.Background(), "old", "sso")
	if err != nil || !e.Stale || !e.HasAccess {
		t.Fatalf("Get(old) = %+v, %v; want the store's record, stale", e, err)
	}
	for range 5 {
		mustHave(t, c, "fresh", "sso", true)
		mustHave(t, c, "old", "sso", true)
	}
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("%d calls, want the 2 failed ones: the pause was not kept", got)
	}
}
