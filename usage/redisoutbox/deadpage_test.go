package redisoutbox_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

// Reading and requeueing 200,000 dead letters (a rotated key parks every
// report of a busy day) must not block Redis: every Reporter on the server
// would fail its Reports meanwhile. One script for all of them blocked it
// for seconds (a PING waited past its 2 s timeout); a page at a time, a
// PING is answered between pages.
func TestManyDeadLettersDoNotBlockRedis(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	setup := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ReadTimeout: time.Minute})
	t.Cleanup(func() { _ = setup.Close() })
	o, err := redisoutbox.New(setup, "many:")
	if err != nil {
		t.Fatal(err)
	}
	// Dead letters as settleScript writes them, made in Redis at once.
	const n = 200_000
	const mk = `
for i = 1, tonumber(ARGV[1]) do
  local m = '4:c' .. string.format('%03d', i % 1000) .. 'f'
  local meta = '{"reason":"401","status":401,"at":1}'
  redis.call('HSET', KEYS[2], tostring(i), string.len(m) .. ':' .. m .. string.len(meta) .. ':' .. meta .. i .. '|1700000000000000000|D1')
  redis.call('ZADD', KEYS[1], i, tostring(i))
end
redis.call('SET', KEYS[3], ARGV[1])
return 1`
	if err := setup.Eval(ctx, mk, []string{"{many:}:1:dz", "{many:}:1:dh", "{many:}:1:seq"}, n).Err(); err != nil {
		t.Fatal(err)
	}
	pinger := newClient(t, srv) // ReadTimeout 2 s
	var (
		mu    sync.Mutex
		worst time.Duration
		perr  error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			s := time.Now()
			err := pinger.Ping(ctx).Err()
			mu.Lock()
			worst = max(worst, time.Since(s))
			if perr == nil {
				perr = err
			}
			mu.Unlock()
		}
	})
	dls, err := o.DeadLetters(ctx)
	if err != nil || len(dls) != n {
		t.Fatalf("DeadLetters: %d, %v; want %d", len(dls), err, n)
	}
	if dls[0].ID != "1" || dls[n-1].ID != "200000" {
		t.Fatalf("DeadLetters not oldest first: first %s, last %s", dls[0].ID, dls[n-1].ID)
	}
	moved, err := o.RequeueDeadLetters(ctx, nil)
	close(stop)
	wg.Wait()
	if err != nil || moved != n {
		t.Fatalf("RequeueDeadLetters: %d, %v; want %d", moved, err, n)
	}
	if s, err := o.Summary(ctx); err != nil || s.Queued != n || s.DeadLetters != 0 {
		t.Fatalf("after requeue: %+v, %v", s, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Generous: a page takes milliseconds; the single script took seconds.
	if perr != nil || worst > time.Second {
		t.Fatalf("a PING during DeadLetters and RequeueDeadLetters waited %v (error %v): Redis was blocked", worst, perr)
	}
}

// A requeue that meets a dead letter it cannot move (its pair's queue key
// holds another type) moves none of the script's dead letters: the first
// used to be moved and the error returned, so a caller told "failed"
// found it half done.
func TestRequeueFailsWhole(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	rdb := newClient(t, srv)
	o, err := redisoutbox.New(rdb, "whole:")
	if err != nil {
		t.Fatal(err)
	}
	rs := []usage.Report{
		{CustomerID: "cA", FeatureID: "f", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()},
		{CustomerID: "cB", FeatureID: "f", Value: 2, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()},
	}
	if err := o.Append(ctx, rs); err != nil {
		t.Fatal(err)
	}
	ls, _, err := o.Claim(ctx, time.Now(), 10, 10)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim: %d leases, %v", len(ls), err)
	}
	for _, l := range ls {
		if err := o.DeadLetter(ctx, l, 1, usage.DeadLetter{Reason: "401", Status: 401, At: time.Now()}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// Another program wrote cB/f's queue key (member "2:cBf").
	if err := rdb.Set(ctx, "{whole:}:1:q:2:cBf", "not a list", 0).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := o.RequeueDeadLetters(ctx, nil)
	if err == nil {
		t.Fatalf("RequeueDeadLetters over a key of the wrong type: %d, nil error", n)
	}
	s, serr := o.Summary(ctx)
	if serr != nil || s.Queued != 0 || s.DeadLetters != 2 || n != 0 {
		t.Fatalf("after a failed requeue: moved %d, %+v (%v); want nothing moved, 2 dead letters", n, s, serr)
	}
}
