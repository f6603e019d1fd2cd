package redisoutbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

func TestNewRefusesBadArguments(t *testing.T) {
	srv := redistest.Start(t)
	rdb := newClient(t, srv)
	for _, tc := range []struct {
		name, prefix string
		opts         []redisoutbox.Option
		want         string
	}{
		{"empty prefix", "", nil, "prefix is empty"},
		{"hash tag in prefix", "a{b}", nil, "hash tag"},
		{"lease too short", "p:", []redisoutbox.Option{redisoutbox.WithLeaseTTL(time.Millisecond)}, "WithLeaseTTL(1ms)"},
		{"poll too long", "p:", []redisoutbox.Option{redisoutbox.WithPollInterval(time.Hour)}, "WithPollInterval(1h0m0s)"},
		{"unknown fsync", "p:", []redisoutbox.Option{redisoutbox.WithRequiredPersistence("no")}, `WithRequiredPersistence("no")`},
		// Start's server keeps nothing: appendonly no.
		{"no persistence", "p:", []redisoutbox.Option{redisoutbox.WithRequiredPersistence("everysec")}, "appendonly no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := redisoutbox.New(rdb, tc.prefix, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, %v; want an error saying %q", o, err, tc.want)
			}
		})
	}
	if _, err := redisoutbox.New(nil, "p:"); err == nil {
		t.Fatal("New(nil client) succeeded")
	}
}

func TestRequiredPersistenceAcceptsAppendfsyncAlways(t *testing.T) {
	srv := redistest.StartPersistent(t)
	o, err := redisoutbox.New(newClient(t, srv), "p:", redisoutbox.WithRequiredPersistence("always"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.Persistence(context.Background())
	if err != nil || !p.AppendOnly || p.AppendFsync != "always" || p.MaxMemoryPolicy != "noeviction" {
		t.Fatalf("Persistence = %+v, %v", p, err)
	}
	if !strings.Contains(p.Survives(), "survives a crash") {
		t.Fatalf("Survives() = %q", p.Survives())
	}
}

// A Redis that is down fails every operation with ErrUnavailable naming
// Redis, stores nothing, and works again once Redis is back, with what it
// held before.
func TestRedisDownIsUnavailable(t *testing.T) {
	srv := redistest.StartPersistent(t)
	o, err := redisoutbox.New(newClient(t, srv), "down:")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := usage.Report{CustomerID: "c", FeatureID: "f", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()}
	if err := o.Append(ctx, []usage.Report{r}); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, usage.ErrUnavailable) || !strings.Contains(err.Error(), "Redis") {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable naming Redis", op, err)
		}
	}
	check("Append", o.Append(ctx, []usage.Report{r, r}))
	_, _, err = o.Claim(ctx, time.Now(), 10, 10)
	check("Claim", err)
	_, err = o.Summary(ctx)
	check("Summary", err)
	_, err = o.Pending(ctx)
	check("Pending", err)
	_, err = o.DeadLetters(ctx)
	check("DeadLetters", err)
	_, err = o.RequeueDeadLetters(ctx, nil)
	check("RequeueDeadLetters", err)
	srv.Restart(t)
	s, err := o.Summary(ctx)
	if err != nil || s.Queued != 1 {
		t.Fatalf("after the restart Summary = %+v, %v; want the 1 report acknowledged before", s, err)
	}
}

// A lease from another outbox, or a lease's count beyond its records, is
// refused without touching Redis.
func TestSettleRefusesForeignLeases(t *testing.T) {
	srv := redistest.Start(t)
	o, err := redisoutbox.New(newClient(t, srv), "foreign:")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := o.Done(ctx, &usage.Lease{CustomerID: "c", FeatureID: "f"}, 0, time.Time{}); err == nil {
		t.Fatal("Done on a lease without a token succeeded")
	}
	if err := o.Done(ctx, nil, 0, time.Time{}); err == nil {
		t.Fatal("Done(nil) succeeded")
	}
	if err := o.Mark(ctx, &usage.Lease{CustomerID: "c", FeatureID: "f", Token: "x"}, 3); err == nil {
		t.Fatal("Mark of 3 records of an empty lease succeeded")
	}
	if _, _, err := o.Claim(ctx, time.Now(), 0, 1); err == nil {
		t.Fatal("Claim(maxPairs 0) succeeded")
	}
}

// A Redis that hangs (SIGSTOP) fails operations with ErrUnavailable once
// the client's read timeout passes, instead of blocking them, and the
// outbox works again when it continues.
func TestRedisHungIsUnavailable(t *testing.T) {
	srv := redistest.StartPersistent(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	o, err := redisoutbox.New(rdb, "hung:")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := usage.Report{CustomerID: "c", FeatureID: "f", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()}
	srv.Pause()
	start := time.Now()
	err = o.Append(ctx, []usage.Report{r})
	if !errors.Is(err, usage.ErrUnavailable) || !strings.Contains(err.Error(), "Redis") {
		t.Fatalf("Append to a hung Redis: %v, want ErrUnavailable naming Redis", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Append to a hung Redis took %v with a 300ms read timeout", d)
	}
	srv.Resume()
	// The hung Append may have run once Redis continued (its answer came
	// too late): 1 or 2 reports, and the next Append works.
	if err := o.Append(ctx, []usage.Report{r}); err != nil {
		t.Fatalf("Append after Resume: %v", err)
	}
	if s, err := o.Summary(ctx); err != nil || s.Queued < 1 || s.Queued > 2 {
		t.Fatalf("Summary after Resume = %+v, %v", s, err)
	}
}
