package webhook_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

func TestMemoryStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: testNow}
	s := webhook.NewMemoryStore(clk.Now)
	step := func(what string, got webhook.ClaimResult, want webhook.ClaimResult) {
		t.Helper()
		if got != want {
			t.Errorf("%s: Claim = %v, want %v", what, got, want)
		}
	}
	claim := func(id string) webhook.ClaimResult {
		t.Helper()
		r, err := s.Claim(ctx, id, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	step("new id", claim("a"), webhook.ClaimAcquired)
	step("claimed id", claim("a"), webhook.ClaimInProgress)
	step("other id", claim("b"), webhook.ClaimAcquired)
	if err := s.Complete(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	step("completed id", claim("a"), webhook.ClaimDone)
	if err := s.Release(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	step("released id", claim("b"), webhook.ClaimAcquired)

	clk.Advance(time.Minute - time.Nanosecond)
	step("completed id just before expiry", claim("a"), webhook.ClaimDone)
	clk.Advance(time.Nanosecond)
	step("completed id at expiry", claim("a"), webhook.ClaimAcquired)
	// "b" was claimed at testNow and never completed: a crashed processing expires too.
	step("abandoned claim after expiry", claim("b"), webhook.ClaimAcquired)
}

func TestMemoryStoreDropsExpiredIDs(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: testNow}
	s := webhook.NewMemoryStore(clk.Now)
	for i := range 100 {
		if _, err := s.Claim(ctx, fmt.Sprint("id", i), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 100 {
		t.Fatalf("Len = %d, want 100", s.Len())
	}
	clk.Advance(2 * time.Minute)
	if _, err := s.Claim(ctx, "fresh", time.Second); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Errorf("Len after expiry = %d, want 1", s.Len())
	}
}

func TestMemoryStoreZeroValue(t *testing.T) {
	var s webhook.MemoryStore
	ctx := context.Background()
	if r, err := s.Claim(ctx, "a", time.Hour); err != nil || r != webhook.ClaimAcquired {
		t.Errorf("Claim = %v, %v", r, err)
	}
	if r, _ := s.Claim(ctx, "a", time.Hour); r != webhook.ClaimInProgress {
		t.Errorf("second Claim = %v, want InProgress", r)
	}
	var fresh webhook.MemoryStore
	if err := fresh.Complete(ctx, "b", time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, _ := fresh.Claim(ctx, "b", time.Hour); r != webhook.ClaimDone {
		t.Errorf("Claim after Complete on a zero store = %v, want Done", r)
	}
	if err := new(webhook.MemoryStore).Release(ctx, "never"); err != nil {
		t.Error(err)
	}
}

func TestMemoryStoreConcurrentClaims(t *testing.T) {
	s := webhook.NewMemoryStore(func() time.Time { return testNow })
	ctx := context.Background()
	var mu sync.Mutex
	acquired := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := fmt.Sprint("id", i%50)
				r, err := s.Claim(ctx, id, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if r == webhook.ClaimAcquired {
					mu.Lock()
					acquired[id]++
					mu.Unlock()
				}
				if g%2 == 0 {
					_ = s.Complete(ctx, id, time.Hour)
				}
			}
		})
	}
	wg.Wait()
	for id, n := range acquired {
		if n != 1 {
			t.Errorf("%s acquired %d times, want once", id, n)
		}
	}
	if len(acquired) != 50 {
		t.Errorf("%d ids acquired, want 50", len(acquired))
	}
}

func TestClaimResultString(t *testing.T) {
	for r, want := range map[webhook.ClaimResult]string{
		webhook.ClaimAcquired: "Acquired", webhook.ClaimInProgress: "InProgress",
		webhook.ClaimDone: "Done", webhook.ClaimResult(7): "ClaimResult(?)",
	} {
		if got := r.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(r), got, want)
		}
	}
}
