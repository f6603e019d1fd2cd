package entitlements_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/entitlements/redisstore"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/kelviq"
)

// sharedRedis starts a real Redis and returns a Store factory on it.
func sharedRedis(t *testing.T) (*redistest.Server, *redis.Client, func() entitlements.Store) {
	t.Helper()
	srv := redistest.Start(t)
	// Few retries inside go-redis, so that a dead Redis fails at once (what
	// the redisstore docs advise for a check path).
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: time.Second, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	return srv, rdb, func() entitlements.Store { return redisstore.New(rdb, "test:ent:") }
}

// Two Checkers (two instances of an app) share one Redis: what the first
// fetched, the second answers from Redis without a call.
func TestTwoCheckersShareRedis(t *testing.T) {
	_, rdb, store := sharedRedis(t)
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`,`+meterTen+`]`)
	first, _ := newChecker(t, f, entitlements.WithStore(store()))
	second, _ := newChecker(t, f, entitlements.WithStore(store()))

	mustHave(t, first, "cust", "sso", true)
	if n, err := rdb.Exists(context.Background(), "test:ent:production:cust").Result(); err != nil || n != 1 {
		t.Fatalf("the record is not in Redis: %v, %v", n, err)
	}
	e, err := second.Get(context.Background(), "cust", "api-calls")
	if err != nil || !e.HasAccess || e.Remaining == nil || *e.Remaining != 6 || e.Stale {
		t.Fatalf("second Get = %+v, %v", e, err)
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("%d API calls, want 1: the second Checker did not use Redis", got)
	}
	if st := second.Stats(); st.StoreHits != 1 || st.APICalls != 0 {
		t.Errorf("second Stats = %+v, want 1 store hit and no call", st)
	}
	// The record's TTL is the max-stale bound.
	if ttl, err := rdb.PTTL(context.Background(), "test:ent:production:cust").Result(); err != nil || ttl <= time.Hour || ttl > entitlements.DefaultMaxStale {
		t.Errorf("PTTL = %v, %v; want about %v", ttl, err, entitlements.DefaultMaxStale)
	}

	// Invalidate clears Redis too: the second Checker asks kelviq again.
	first.Invalidate("cust")
	if n, _ := rdb.Exists(context.Background(), "test:ent:production:cust").Result(); n != 0 {
		t.Fatal("Invalidate left the record in Redis")
	}
	second.Invalidate("cust")
	mustHave(t, second, "cust", "sso", true)
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d API calls after Invalidate, want 2", got)
	}
}

// An old record in Redis is not fresh: the Checker asks kelviq, and when
// kelviq is down, serves the record stale (a restarted instance has only
// Redis to go on).
func TestRedisServesStaleAfterRestart(t *testing.T) {
	_, _, store := sharedRedis(t)
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	before, clk := newChecker(t, f, entitlements.WithStore(store()))
	mustHave(t, before, "cust", "sso", true)

	f.down(true)
	clk.advance(time.Hour)
	restarted, err := entitlements.New(f.client(t), entitlements.WithStore(store()), entitlements.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	e, err := restarted.Get(context.Background(), "cust", "sso")
	if err != nil || !e.Stale || !e.HasAccess {
		t.Fatalf("Get = %+v, %v; want the stale record from Redis", e, err)
	}
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2 (the old record is not fresh, kelviq was asked)", got)
	}
}

// Redis killed mid-run: checks go on with memory and kelviq, never failing
// because of Redis; the outage is logged once, and so is its end.
func TestRedisKilledMidRun(t *testing.T) {
	srv, _, store := sharedRedis(t)
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	logs := &logBuffer{}
	c, clk := newChecker(t, f, entitlements.WithStore(store()), entitlements.WithLogger(logs.logger()))
	mustHave(t, c, "cust", "sso", true)

	srv.Kill()
	mustHave(t, c, "cust", "sso", true) // memory
	for i := range 5 {
		clk.advance(entitlements.DefaultTTL) // each check misses, tries Redis, then kelviq
		mustHave(t, c, "cust", "sso", true)
		c.Invalidate("cust") // a delete that fails
		if i == 0 {          // kelviq's 404 is still its answer
			if _, err := c.HasAccess(context.Background(), "new-customer", "sso"); !errors.Is(err, kelviq.ErrNotFound) {
				t.Fatalf("unknown customer with Redis down: %v, want ErrNotFound", err)
			}
		}
	}
	st := c.Stats()
	if st.StoreErrors == 0 || st.Errors != 1 {
		t.Fatalf("Stats = %+v, want store errors and only the 404 as a failed check", st)
	}
	if got := logs.count("entitlements store is failing"); got != 1 {
		t.Fatalf("the Redis outage was logged %d times, want once:\n%s", got, logs)
	}

	srv.Restart(t)
	clk.advance(entitlements.DefaultTTL)
	mustHave(t, c, "cust", "sso", true)
	if got := logs.count("entitlements store is answering again"); got != 1 {
		t.Fatalf("the end of the outage was logged %d times, want once:\n%s", got, logs)
	}
	// Redis is used again: a second Checker finds the record there.
	other, _ := newChecker(t, f, entitlements.WithStore(store()), entitlements.WithClock(clk.Now))
	calls := f.calls.Load()
	mustHave(t, other, "cust", "sso", true)
	if f.calls.Load() != calls {
		t.Error("after the restart, the record was not saved to Redis")
	}
}

// A record Redis holds that cannot be read (another program's value under
// the prefix) is ignored: kelviq answers.
func TestUnreadableRecordIsIgnored(t *testing.T) {
	_, rdb, store := sharedRedis(t)
	ctx := context.Background()
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	for _, v := range []string{"garbage", "kq-ent/1\n1746100800000000000\n{not json"} {
		if err := rdb.Set(ctx, "test:ent:production:cust", v, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		c, _ := newChecker(t, f, entitlements.WithStore(store()))
		mustHave(t, c, "cust", "sso", true)
	}
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2", got)
	}
}

// A record from an instance whose clock runs ahead is fresh for no longer
// than the TTL: within a second of skew it counts as fetched now, beyond
// that it is not used (TestFutureRecordIsNeverServedStale).
func TestFutureRecordIsNotFreshForever(t *testing.T) {
	_, _, store := sharedRedis(t)
	s := store()
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithStore(s))
	body := []byte(`{"customerId":"cust","entitlements":[` + boolOn + `]}`)
	save := func(at time.Time) {
		t.Helper()
		if err := s.Save(context.Background(), "production:cust", entitlements.Record{FetchedAt: at, Body: body}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	save(clk.Now().Add(500 * time.Millisecond)) // a little skew
	mustHave(t, c, "cust", "sso", true)
	if f.calls.Load() != 0 {
		t.Fatal("a record half a second ahead was not used")
	}
	clk.advance(entitlements.DefaultTTL + time.Second) // TTL + at most the skew
	mustHave(t, c, "cust", "sso", true)
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("%d calls, want 1: the record stayed fresh past the TTL", got)
	}

	c.Invalidate("cust")
	save(clk.Now().Add(24 * time.Hour)) // a clock a day ahead
	mustHave(t, c, "cust", "sso", true)
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2: a record a day ahead was taken as fresh", got)
	}
}

// A value under a customer's key that is not a record (garbage, a record
// format of another version, another type of key, a value far larger than
// any answer) is no record: it neither counts as a failure of the store
// (which would leave the whole store alone for a second after every fetch
// of that customer) nor survives, since the fresh answer replaces it.
func TestPoisonedKeyHeals(t *testing.T) {
	_, rdb, store := sharedRedis(t)
	ctx := context.Background()
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	const key = "test:ent:production:cust"
	poisons := map[string]func() error{
		"garbage":        func() error { return rdb.Set(ctx, key, "garbage", 0).Err() },
		"future version": func() error { return rdb.Set(ctx, key, "kq-ent/2\n1\n{}", 0).Err() },
		"hash":           func() error { return rdb.HSet(ctx, key, "a", "b").Err() },
		"huge":           func() error { return rdb.Set(ctx, key, strings.Repeat("x", 20<<20), 0).Err() },
	}
	for name, poison := range poisons {
		t.Run(name, func(t *testing.T) {
			if err := rdb.Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
			if err := poison(); err != nil {
				t.Fatal(err)
			}
			// A budget for reading the huge value whole under -race on
			// a loaded machine: this test is about what the value is, not
			// how long it takes (TestHungStoreCostsItsBudget).
			c, _ := newChecker(t, f, entitlements.WithStore(store()), entitlements.WithStoreTimeout(10*time.Second))
			mustHave(t, c, "cust", "sso", true)
			if st := c.Stats(); st.StoreErrors != 0 {
				t.Errorf("Stats = %+v: the poisoned key counted as a store failure", st)
			}
			// The answer replaced the poison: another instance reads it.
			calls := f.calls.Load()
			other, _ := newChecker(t, f, entitlements.WithStore(store()), entitlements.WithStoreTimeout(10*time.Second))
			mustHave(t, other, "cust", "sso", true)
			if f.calls.Load() != calls {
				t.Error("the poisoned key was not replaced by the answer")
			}
		})
	}
}
