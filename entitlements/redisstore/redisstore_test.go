package redisstore_test

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
)

func newRedis(t *testing.T) (*redistest.Server, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	return srv, rdb
}

func TestSaveLoadDelete(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	s := redisstore.New(rdb, "app1:ent:")
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	rec := entitlements.Record{FetchedAt: at, Body: []byte(`{"customerId":"c","entitlements":[]}` + "\n")}

	if _, ok, err := s.Load(ctx, "production:c"); ok || err != nil {
		t.Fatalf("Load before Save = %v, %v; want not found", ok, err)
	}
	if err := s.Save(ctx, "production:c", rec, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load(ctx, "production:c")
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v", ok, err)
	}
	if !got.FetchedAt.Equal(at) || string(got.Body) != string(rec.Body) {
		t.Fatalf("Load = %v %q, want %v %q", got.FetchedAt, got.Body, at, rec.Body)
	}
	// The key is the prefix plus the Checker's key, and expires with the TTL.
	ttl, err := rdb.PTTL(ctx, "app1:ent:production:c").Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("PTTL = %v, %v; want (0, 1h]", ttl, err)
	}
	// Another prefix is another namespace.
	if _, ok, _ := redisstore.New(rdb, "app2:ent:").Load(ctx, "production:c"); ok {
		t.Fatal("a Store with another prefix sees the record")
	}
	if err := s.Delete(ctx, "production:c"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "production:c"); ok || err != nil {
		t.Fatalf("Load after Delete = %v, %v; want not found", ok, err)
	}
}

func TestRecordsExpire(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	s := redisstore.New(rdb, "p:")
	if err := s.Save(ctx, "k", entitlements.Record{FetchedAt: time.Now(), Body: []byte(`{}`)}, 0); err != nil {
		t.Fatal(err) // a TTL under Redis's millisecond is raised to it, not refused
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok, err := s.Load(ctx, "k"); err != nil {
			t.Fatal(err)
		} else if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the record did not expire")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A value that is not a record of this package is no record, not a failure
// of Redis: the Checker's next Save replaces it (see TestPoisonedKeyHeals
// in package entitlements).
func TestForeignValueIsNoRecord(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	s := redisstore.New(rdb, "p:")
	for name, v := range map[string]string{
		"other format": `{"fetchedAt":"2026-05-01"}`,
		"truncated":    "kq-ent/1\n1746100800",
		"bad time":     "kq-ent/1\nyesterday\n{}",
		"empty":        "",
		"too large":    "kq-ent/1\n1746100800\n" + strings.Repeat(" ", 17<<20),
	} {
		if err := rdb.Set(ctx, "p:"+name, v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Load(ctx, name); ok || err != nil {
			t.Errorf("%s: Load = %v, %v; want no record and no error", name, ok, err)
		}
	}
	if err := rdb.RPush(ctx, "p:list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "list"); ok || err != nil {
		t.Errorf("a list: Load = %v, %v; want no record and no error", ok, err)
	}
	// Save replaces a key of another type.
	rec := entitlements.Record{FetchedAt: time.Unix(1, 0), Body: []byte(`{}`)}
	if err := s.Save(ctx, "list", rec, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "list"); !ok || err != nil {
		t.Errorf("after Save: Load = %v, %v; want the record", ok, err)
	}
}

func TestNilClientAndDeadServerAreErrors(t *testing.T) {
	ctx := context.Background()
	nilStore := redisstore.New(nil, "p:")
	if _, _, err := nilStore.Load(ctx, "k"); err == nil {
		t.Error("Load with a nil client: no error")
	}
	if err := nilStore.Save(ctx, "k", entitlements.Record{}, time.Minute); err == nil {
		t.Error("Save with a nil client: no error")
	}
	if err := nilStore.Delete(ctx, "k"); err == nil {
		t.Error("Delete with a nil client: no error")
	}

	srv, rdb := newRedis(t)
	srv.Kill()
	s := redisstore.New(rdb, "p:")
	_, ok, err := s.Load(ctx, "k")
	if ok || err == nil || errors.Is(err, redis.Nil) {
		t.Fatalf("Load from a dead server = %v, %v; want an error", ok, err)
	}
}

// A nil *Store (a variable declared and never set, given to WithStore) is
// an error on every method, never a panic: the Checker goes on without it.
func TestNilStoreIsAnError(t *testing.T) {
	ctx := context.Background()
	var s *redisstore.Store
	if _, ok, err := s.Load(ctx, "k"); ok || err == nil {
		t.Errorf("Load on a nil Store = %v, %v; want an error", ok, err)
	}
	if err := s.Save(ctx, "k", entitlements.Record{}, time.Minute); err == nil {
		t.Error("Save on a nil Store: no error")
	}
	if err := s.Delete(ctx, "k"); err == nil {
		t.Error("Delete on a nil Store: no error")
	}
}
