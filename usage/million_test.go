package usage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// One million reports while kelviq is down: the file's size, and all of
// them still there after reopening, delivered with exact sums. It takes
// about a minute on a slow disk, so it runs only with
// KELVIQ_USAGE_MILLION=1 (BENCHMARKS.md quotes it).
func TestMillionReportsSurviveReopen(t *testing.T) {
	if os.Getenv("KELVIQ_USAGE_MILLION") == "" {
		t.Skip("set KELVIQ_USAGE_MILLION=1 to store a million reports")
	}
	const total, pairs, reporters = 1_000_000, 50, 64
	path := filepath.Join(t.TempDir(), "outbox.db")
	addr := deadAddr(t)
	r, err := usage.NewReporter(newClient(t, "http://"+addr), usage.WithPath(path), usage.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for g := range reporters {
		wg.Go(func() {
			for i := g; i < total; i += reporters {
				// Value 1 each: pair i%pairs ends at total/pairs.
				if err := r.Report(context.Background(), "million", fmt.Sprintf("f%02d", i%pairs), 1, delta); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	commits, _ := usage.CommitStats(r)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reports in %v (%.0f/s, %d commits, %.1f reports/commit); file %.1f MB, %.0f bytes/report",
		total, elapsed.Round(time.Millisecond), total/elapsed.Seconds(), commits, float64(total)/float64(commits),
		float64(fi.Size())/1e6, float64(fi.Size())/total)

	reopened, err := usage.NewReporter(newClient(t, "http://"+addr), usage.WithPath(path), usage.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if q := reopened.Stats().Queued; q != total {
		t.Fatalf("after reopening: %d queued, want %d", q, total)
	}
	if err := reopened.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	fake := newFakeAPI(t, addr)
	again, err := usage.NewReporter(newClient(t, fake.srv.URL), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	flushAll(t, again)
	if err := again.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for p := range pairs {
		if got := fake.sum(pair{"million", fmt.Sprintf("f%02d", p)}); got != total/pairs {
			t.Errorf("pair %d: sum %d, want %d", p, got, total/pairs)
		}
	}
	t.Logf("delivered in %d requests", len(fake.received()))
}
