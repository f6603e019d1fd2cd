package usage_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// A key rotated at the wrong moment: kelviq answers 401 and every report
// is parked. Once the key is fixed, RequeueDeadLetters delivers them with
// exact sums; PurgeDeadLetters removes a filtered subset; DeadLetters and
// Stats show the rest.
func TestDeadLettersRequeuedAfterTheKeyIsFixed(t *testing.T) {
	for _, ob := range outboxes {
		t.Run(ob.name, func(t *testing.T) {
			fake := newFakeAPI(t, "")
			fake.setAnswer(func(int, got) (int, http.Header, bool) { return http.StatusUnauthorized, nil, false })
			r := newReporter(t, newClient(t, fake.srv.URL), ob.opt(t))
			ctx := context.Background()
			want := map[pair]int{}
			for i := range 100 {
				p := pair{"c1", fmt.Sprintf("f%d", i%5)}
				if err := r.Report(ctx, p.customer, p.feature, i, delta); err != nil {
					t.Fatal(err)
				}
				want[p] += i
			}
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, _ = r.Flush(fctx)
			dl, err := r.DeadLetters()
			if err != nil || len(dl) != 100 {
				t.Fatalf("dead letters: %d, %v; want 100", len(dl), err)
			}
			for _, d := range dl {
				if d.Reason != "401" || d.Status != 401 || d.ID == "" || d.At.IsZero() || d.Error == "" || d.Report.CustomerID != "c1" {
					t.Fatalf("dead letter %+v: want reason 401, status, ID, time and error", d)
				}
			}
			if s := r.Stats(); s.DeadLetters != 100 || s.Dropped != 100 || s.Queued != 0 {
				t.Errorf("stats %+v; want 100 dead letters", s)
			}
			fake.setAnswer(nil) // the key is fixed
			// Purge one pair's, requeue the other four's.
			n, err := r.PurgeDeadLetters(ctx, func(d usage.DeadLetter) bool { return d.Report.FeatureID == "f4" })
			if err != nil || n != 20 {
				t.Fatalf("purge: %d, %v; want 20", n, err)
			}
			n, err = r.RequeueDeadLetters(ctx, func(d usage.DeadLetter) bool { return d.Report.FeatureID != "f3" })
			if err != nil || n != 60 {
				t.Fatalf("requeue: %d, %v; want 60", n, err)
			}
			if _, err := r.Flush(fctx); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				p := pair{"c1", fmt.Sprintf("f%d", i)}
				if got := fake.sum(p); got != want[p] {
					t.Errorf("%v: sum %d, want %d", p, got, want[p])
				}
			}
			if got := fake.sum(pair{"c1", "f3"}) + fake.sum(pair{"c1", "f4"}); got != 0 {
				t.Errorf("f3 and f4 sent %d; want nothing (still parked, purged)", got)
			}
			dl, err = r.DeadLetters()
			if err != nil || len(dl) != 20 || dl[0].Report.FeatureID != "f3" {
				t.Fatalf("dead letters after: %d, %v; want f3's 20", len(dl), err)
			}
			if s := r.Stats(); s.DeadLetters != 20 || s.Queued != 0 {
				t.Errorf("stats %+v; want 20 dead letters, nothing queued", s)
			}
			// nil matches all: the rest goes back too.
			if n, err := r.RequeueDeadLetters(ctx, nil); err != nil || n != 20 {
				t.Fatalf("requeue all: %d, %v", n, err)
			}
			if _, err := r.Flush(fctx); err != nil {
				t.Fatal(err)
			}
			if p := (pair{"c1", "f3"}); fake.sum(p) != want[p] {
				t.Errorf("f3: sum %d, want %d", fake.sum(p), want[p])
			}
		})
	}
}

// The requeued reports are sent by the background sender too, without a
// Flush: RequeueDeadLetters kicks it.
func TestRequeuedReportsAreSentInTheBackground(t *testing.T) {
	fake := newFakeAPI(t, "")
	fake.setAnswer(func(int, got) (int, http.Header, bool) { return http.StatusUnauthorized, nil, false })
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory())
	ctx := context.Background()
	if err := r.Report(ctx, "c1", "calls", 3, delta); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().DeadLetters != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	fake.setAnswer(nil)
	if n, err := r.RequeueDeadLetters(ctx, nil); n != 1 || err != nil {
		t.Fatalf("requeue: %d, %v", n, err)
	}
	for fake.sum(pair{"c1", "calls"}) != 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := fake.sum(pair{"c1", "calls"}); got != 3 {
		t.Errorf("sum %d, want 3", got)
	}
}

// Stats' OldestQueued and DeadLetters come from the outbox: the oldest
// queued report's time while kelviq is down, and zero once sent.
func TestStatsOldestQueuedAndDeadLetters(t *testing.T) {
	for _, ob := range outboxes {
		t.Run(ob.name, func(t *testing.T) {
			addr := deadAddr(t)
			r := newReporter(t, newClient(t, "http://"+addr), ob.opt(t), usage.WithBackoff(time.Hour, time.Hour))
			ctx := context.Background()
			before := time.Now()
			if err := r.Report(ctx, "c1", "a", 1, delta); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
			for i := range 10 {
				if err := r.Report(ctx, fmt.Sprintf("c%d", i), "b", 1, delta); err != nil {
					t.Fatal(err)
				}
			}
			s := r.Stats()
			if s.Queued != 11 || s.OldestQueued.Before(before) || s.OldestQueued.After(before.Add(5*time.Millisecond)) {
				t.Errorf("stats %+v; want 11 queued, the oldest stored just after %v", s, before)
			}
			fake := newFakeAPI(t, addr)
			fake.setAnswer(func(_ int, g got) (int, http.Header, bool) {
				if g.feature == "a" {
					return http.StatusUnprocessableEntity, nil, false
				}
				return http.StatusOK, nil, true
			})
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, _ = r.Flush(fctx)
			if s := r.Stats(); s.Queued != 0 || !s.OldestQueued.IsZero() || s.DeadLetters != 1 {
				t.Errorf("after the flush: %+v; want nothing queued, 1 dead letter", s)
			}
		})
	}
}
