package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/entitlements/redisstore"
)

// A save that reaches Redis late (the Checker stopped waiting for it after
// its store budget, and go-redis sent it on) carries an older answer than
// the one saved meanwhile: it must not replace it. Replaced, the older
// answer (a grant since revoked) is what every instance serves stale when
// kelviq then fails. A newer record, and any value that is not a record
// of this package or not a string, are still replaced.
func TestOlderSaveDoesNotReplaceNewer(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	s := redisstore.New(rdb, "t:")
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	body := func(v string) []byte { return []byte(`{"customerId":"c","entitlements":[],"v":"` + v + `"}`) }
	save := func(at time.Time, v string) {
		t.Helper()
		if err := s.Save(ctx, "production:c", entitlements.Record{FetchedAt: at, Body: body(v)}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	load := func() string {
		t.Helper()
		rec, ok, err := s.Load(ctx, "production:c")
		if err != nil || !ok {
			t.Fatalf("Load = %v, %v", ok, err)
		}
		return string(rec.Body)
	}
	save(t0.Add(time.Second), "newer")
	save(t0, "late") // older: kept out
	if got := load(); got != string(body("newer")) {
		t.Fatalf("after a late save of an older answer, the record is %s", got)
	}
	save(t0.Add(2*time.Second), "newest")
	if got := load(); got != string(body("newest")) {
		t.Fatalf("a newer answer did not replace the record: %s", got)
	}
	// The TTL is the latest save's, not kept from the skipped one.
	if ttl, err := rdb.PTTL(ctx, "t:production:c").Result(); err != nil || ttl <= 0 {
		t.Fatalf("PTTL = %v, %v", ttl, err)
	}
	// A value of another format, or a key of another type, is replaced.
	rdb.Set(ctx, "t:production:c", "garbage", 0)
	save(t0, "over garbage")
	if got := load(); got != string(body("over garbage")) {
		t.Fatalf("garbage was not replaced: %s", got)
	}
	rdb.Del(ctx, "t:production:c")
	rdb.HSet(ctx, "t:production:c", "f", "v")
	save(t0, "over a hash")
	if got := load(); got != string(body("over a hash")) {
		t.Fatalf("a hash was not replaced: %s", got)
	}
	// After a delete (Invalidate), any answer is saved.
	_ = s.Delete(ctx, "production:c")
	save(t0.Add(-time.Hour), "after delete")
	if got := load(); got != string(body("after delete")) {
		t.Fatalf("after a delete: %s", got)
	}
}

// A record from an instance whose clock runs ahead (fetched an hour in
// Redis's future) does not keep the others' saves out: their Checkers do
// not use it, and it would stand until its TTL.
func TestFutureRecordDoesNotBlockSaves(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	s := redisstore.New(rdb, "t:")
	now := time.Now()
	if err := s.Save(ctx, "production:c", entitlements.Record{FetchedAt: now.Add(time.Hour), Body: []byte(`{"v":"ahead"}`)}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "production:c", entitlements.Record{FetchedAt: now, Body: []byte(`{"v":"now"}`)}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if rec, ok, err := s.Load(ctx, "production:c"); err != nil || !ok || string(rec.Body) != `{"v":"now"}` {
		t.Fatalf("Load = %s, %v, %v; want the save of now over the record from the future", rec.Body, ok, err)
	}
}

// A Redis user whose ACL refuses scripts still saves (plain SET, last
// writer wins), rather than failing every save and leaving the store alone
// after each.
func TestSaveWithoutScripts(t *testing.T) {
	srv, rdb := newRedis(t)
	ctx := context.Background()
	if err := rdb.Do(ctx, "ACL", "SETUSER", "noeval", "on", ">pw", "~*", "+@all", "-eval", "-evalsha", "-script").Err(); err != nil {
		t.Fatal(err)
	}
	limited := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "noeval", Password: "pw", MaxRetries: -1})
	t.Cleanup(func() { _ = limited.Close() })
	s := redisstore.New(limited, "t:")
	rec := entitlements.Record{FetchedAt: time.Now(), Body: []byte(`{"customerId":"c","entitlements":[]}`)}
	if err := s.Save(ctx, "production:c", rec, time.Hour); err != nil {
		t.Fatalf("Save without scripts: %v", err)
	}
	if got, ok, err := s.Load(ctx, "production:c"); err != nil || !ok || string(got.Body) != string(rec.Body) {
		t.Fatalf("Load = %s, %v, %v", got.Body, ok, err)
	}
}
