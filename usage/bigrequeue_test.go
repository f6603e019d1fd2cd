package usage_test

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// Requeueing 100,000 dead letters of a file (a rotated key parked a busy
// day) works a page at a time: its heap stays bounded, and Reports are
// not held behind one transaction of them all. All in one, it took about
// 1 KiB of heap per dead letter (300 MB for 300,000).
func TestFileRequeueOfManyIsPaged(t *testing.T) {
	if raceEnabled {
		// A measure of the heap, which the race detector changes, at
		// five times the time: it runs in the plain test run.
		t.Skip("heap measure; runs without -race")
	}
	ctx := context.Background()
	o, err := usage.OpenFileOutbox(filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	const n = 100_000
	rs := make([]usage.Report, n)
	for i := range rs {
		rs[i] = usage.Report{CustomerID: "cust", FeatureID: "feat", Value: 1, Behaviour: delta, StoredAt: time.Now()}
	}
	if err := o.Append(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for {
		ls, _, err := o.Claim(ctx, time.Now(), 1, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			break
		}
		dl := usage.DeadLetter{Reason: "401", Status: 401, Error: "usage: kelviq answered 401 Unauthorized: the server key is wrong", At: time.Now()}
		if err := o.DeadLetter(ctx, ls[0], len(ls[0].Records), dl, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// Collect often, so that the peak is of what is live, not garbage.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var (
		mu       sync.Mutex
		peak     uint64
		slowest  time.Duration
		appended int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			s := time.Now()
			if err := o.Append(ctx, rs[:1]); err != nil {
				t.Error(err)
			}
			mu.Lock()
			peak = max(peak, m.HeapAlloc)
			slowest = max(slowest, time.Since(s))
			appended++
			mu.Unlock()
		}
	})
	k, err := o.RequeueDeadLetters(ctx, nil)
	close(stop)
	wg.Wait()
	if err != nil || k != n {
		t.Fatalf("RequeueDeadLetters = %d, %v; want %d", k, err, n)
	}
	t.Logf("slowest Append during the requeue %v", slowest)
	if s, _ := o.Summary(ctx); s.Queued != int64(n+appended) || s.DeadLetters != 0 {
		t.Fatalf("after requeue %+v", s)
	}
	if grew := int64(peak-base) >> 20; peak > base && grew > 10 {
		t.Errorf("the heap grew by %d MiB while requeueing %d dead letters", grew, n)
	} else {
		t.Logf("heap grew by %d MiB", grew)
	}
}
