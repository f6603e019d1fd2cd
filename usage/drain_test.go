package usage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// outboxes are the two outboxes every behaviour test runs on.
var outboxes = []struct {
	name string
	opt  func(t testing.TB) usage.Option
}{
	{"file", func(t testing.TB) usage.Option { return usage.WithPath(filepath.Join(t.TempDir(), "outbox.db")) }},
	{"memory", func(testing.TB) usage.Option { return usage.WithMemory() }},
}

// Flush allowed a fixed number of rounds per pair, while coalescing splits
// at every DELTA that would make a SET negative: 10 × (SET 10, DELTA −20)
// stored during a 429 left 15 (memory) or 17 (file) reports with a nil
// error, and Close with WithMemory dropped 11.
func TestFlushDrainsSetDeltaAlternation(t *testing.T) {
	for _, ob := range outboxes {
		t.Run(ob.name, func(t *testing.T) {
			fake := newFakeAPI(t, "")
			fake.setAnswer(func(int, got) (int, http.Header, bool) { return http.StatusTooManyRequests, nil, false })
			r := newReporter(t, newClient(t, fake.srv.URL), ob.opt(t), usage.WithBackoff(time.Hour, time.Hour))
			ctx := context.Background()
			for range 10 {
				if err := r.Report(ctx, "c1", "seats", 10, set); err != nil {
					t.Fatal(err)
				}
				if err := r.Report(ctx, "c1", "seats", -20, delta); err != nil {
					t.Fatal(err)
				}
			}
			settle429(t, r)
			fake.setAnswer(nil) // kelviq takes everything from now on
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			n, err := r.Flush(fctx)
			if n != 0 || err != nil {
				t.Errorf("Flush = %d, %v; want 0, nil", n, err)
			}
			if got := fake.sum(pair{"c1", "seats"}); got != -10 {
				t.Errorf("kelviq's total %d, want -10", got)
			}
		})
	}
}

// Close with WithMemory loses what it does not send: it must send all of
// it while kelviq takes it.
func TestCloseWithMemoryDropsNothing(t *testing.T) {
	fake := newFakeAPI(t, "")
	fake.setAnswer(func(int, got) (int, http.Header, bool) { return http.StatusTooManyRequests, nil, false })
	r, err := usage.NewReporter(newClient(t, fake.srv.URL), usage.WithMemory(), usage.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 10 {
		_ = r.Report(ctx, "c1", "seats", 10, set)
		_ = r.Report(ctx, "c1", "seats", -20, delta)
	}
	settle429(t, r)
	fake.setAnswer(nil)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Close(cctx); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Queued != 0 || s.Sent != 20 || fake.sum(pair{"c1", "seats"}) != -10 {
		t.Errorf("after Close: stats %+v, total %d; want everything sent, -10", s, fake.sum(pair{"c1", "seats"}))
	}
}

// Random SET/DELTA sequences stored while kelviq refuses to take them
// (429), then one Flush once it does: nothing left, exact totals.
func TestFlushDrainsRandomSequences(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 4
	}
	for _, ob := range outboxes {
		t.Run(ob.name, func(t *testing.T) {
			for seed := range seeds {
				rng := rand.New(rand.NewPCG(uint64(seed), 7))
				fake := newFakeAPI(t, "")
				fake.setAnswer(func(int, got) (int, http.Header, bool) { return http.StatusTooManyRequests, nil, false })
				r := newReporter(t, newClient(t, fake.srv.URL), ob.opt(t), usage.WithMaxPerRequest(1+rng.IntN(8)), usage.WithBackoff(time.Hour, time.Hour))
				ctx := context.Background()
				want := map[pair]int{}
				for range 20 + rng.IntN(40) {
					p := pair{"c1", fmt.Sprintf("f%d", rng.IntN(3))}
					if rng.IntN(3) == 0 {
						v := rng.IntN(50)
						if err := r.Report(ctx, p.customer, p.feature, v, set); err != nil {
							t.Fatal(err)
						}
						want[p] = v
					} else {
						v := rng.IntN(60) - 40
						if err := r.Report(ctx, p.customer, p.feature, v, delta); err != nil {
							t.Fatal(err)
						}
						want[p] += v
					}
				}
				settle429(t, r)
				fake.setAnswer(nil)
				fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				n, err := r.Flush(fctx)
				cancel()
				if n != 0 || err != nil {
					t.Fatalf("seed %d: Flush = %d, %v; want 0, nil", seed, n, err)
				}
				for p, v := range want {
					if got := fake.sum(p); got != v {
						t.Fatalf("seed %d: %v total %d, want %d", seed, p, got, v)
					}
				}
			}
		})
	}
}

// settle429 makes every stored report meet the 429 once, so that the
// background sender, backed off for an hour, sends nothing more: what the
// test flushes next is the flush's own doing.
func settle429(t *testing.T, r *usage.Reporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := r.Flush(ctx); n == 0 || err == nil {
		t.Fatalf("Flush during the 429s = %d, %v; want reports left and the 429", n, err)
	}
	// A background request answered 429 may still be on its way back:
	// wait until the retries stop moving.
	for last := int64(-1); ; {
		time.Sleep(50 * time.Millisecond)
		now := r.Stats().Retried
		if now == last || ctx.Err() != nil {
			return
		}
		last = now
	}
}
