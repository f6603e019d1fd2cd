package usage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// Under a steady load a pair used to be forgotten with its not-before time
// as soon as its queue emptied, so the next report was sent at once: 20
// reports 20 ms apart went as 20 requests and nothing was merged.
func TestSteadyLoadIsMergedPerPairInterval(t *testing.T) {
	fake := newFakeAPI(t, "")
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(filepath.Join(t.TempDir(), "outbox.db")))
	ctx := context.Background()
	// A ticker, so that the reports keep 20 ms apart however long each
	// sync takes on a loaded machine.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range 20 {
		if i > 0 {
			<-tick.C
		}
		if err := r.Report(ctx, "c1", "api-calls", 1, delta); err != nil {
			t.Fatal(err)
		}
	}
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	reqs := fake.received()
	s := r.Stats()
	if len(reqs) > 6 || fake.sum(pair{"c1", "api-calls"}) != 20 {
		t.Errorf("%d requests, sum %d; want at most 6 requests, sum 20", len(reqs), fake.sum(pair{"c1", "api-calls"}))
	}
	if s.Sent != 20 || s.Coalesced != int64(20-len(reqs)) {
		t.Errorf("stats %+v after %d requests; want Sent 20, Coalesced %d", s, len(reqs), 20-len(reqs))
	}
}

// The pause kept after a pair's request must not keep the pair's state for
// ever: 1,000 pairs reported once and left idle leave nothing behind once
// the interval has passed.
func TestIdlePairsAreReleasedAfterTheInterval(t *testing.T) {
	fake := newFakeAPI(t, "")
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory())
	ctx := context.Background()
	for i := range 1000 {
		if err := r.Report(ctx, fmt.Sprintf("c%d", i), "calls", 1, delta); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(fake.received()) < 1000 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(fake.received()); n != 1000 {
		t.Fatalf("%d requests, want 1000", n)
	}
	if n := usage.PairStates(r); n == 0 {
		t.Logf("pair state already released when the last request was answered")
	}
	for usage.PairStates(r) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := usage.PairStates(r); n != 0 {
		t.Errorf("%d pairs still have state well after the interval; want 0", n)
	}
	for i := range 1000 {
		if got := fake.sum(pair{fmt.Sprintf("c%d", i), "calls"}); got != 1 {
			t.Fatalf("c%d: sum %d, want 1", i, got)
		}
	}
}
