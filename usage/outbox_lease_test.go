package usage_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// The local outboxes' leases, as the Outbox contract says: a leased pair
// is not claimed again until its lease ends or expires; an expired
// lease's Done still deletes what was delivered and says ErrLeaseLost;
// not-before times hold; Summary and Pending follow.
func TestLocalOutboxLeases(t *testing.T) {
	for _, kind := range []string{"file", "memory"} {
		t.Run(kind, func(t *testing.T) {
			var o usage.Outbox = usage.NewMemoryOutbox()
			if kind == "file" {
				fo, err := usage.OpenFileOutbox(filepath.Join(t.TempDir(), "outbox.db"))
				if err != nil {
					t.Fatal(err)
				}
				o = fo
			}
			defer o.Close()
			ctx := context.Background()
			now := time.Now()
			reps := []usage.Report{
				{CustomerID: "c1", FeatureID: "f", Value: 1, Behaviour: delta, StoredAt: now},
				{CustomerID: "c2", FeatureID: "f", Value: 2, Behaviour: delta, StoredAt: now.Add(time.Millisecond)},
				{CustomerID: "c1", FeatureID: "f", Value: 3, Behaviour: set, StoredAt: now.Add(2 * time.Millisecond)},
			}
			if err := o.Append(ctx, reps); err != nil {
				t.Fatal(err)
			}
			if s, _ := o.Summary(ctx); s.Queued != 3 || !s.Oldest.Equal(now) {
				t.Fatalf("summary %+v", s)
			}
			ls, _, err := o.Claim(ctx, now, 1, 10)
			if err != nil || len(ls) != 1 || ls[0].CustomerID != "c1" || len(ls[0].Records) != 2 || ls[0].Records[1].Report.Value != 3 {
				t.Fatalf("claim: %+v, %v; want c1's two records", ls, err)
			}
			l1 := ls[0]
			// c1 is leased: only c2 is due.
			ls, next, err := o.Claim(ctx, now, 10, 10)
			if err != nil || len(ls) != 1 || ls[0].CustomerID != "c2" || next.IsZero() {
				t.Fatalf("second claim: %+v, next %v, %v; want c2 only, and a next time", ls, next, err)
			}
			l2 := ls[0]
			if ls, _, _ := o.Claim(ctx, now, 10, 10); len(ls) != 0 {
				t.Fatalf("third claim: %+v; want nothing due", ls)
			}
			// c2's request failed: back off for a minute.
			if err := o.Done(ctx, l2, 0, now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if ls, _, _ := o.Claim(ctx, now.Add(30*time.Second), 10, 10); len(ls) != 0 {
				t.Fatalf("claim during c2's backoff: %+v", ls)
			}
			// c1's lease expires unended: the pair is claimed again, and
			// the first lease's late Done deletes its first record but
			// says the lease was lost.
			later := l1.Expires.Add(time.Second)
			ls, _, err = o.Claim(ctx, later, 10, 10)
			if err != nil || len(ls) != 2 {
				t.Fatalf("claim after the expiry: %+v, %v; want c1 and c2", ls, err)
			}
			if err := o.Done(ctx, l1, 1, time.Time{}); !errors.Is(err, usage.ErrLeaseLost) {
				t.Errorf("Done on the expired lease: %v; want ErrLeaseLost", err)
			}
			if s, _ := o.Summary(ctx); s.Queued != 2 {
				t.Errorf("summary %+v; want the delivered record deleted", s)
			}
			pending, err := o.Pending(ctx)
			if err != nil || len(pending) != 2 || !pending[0].Leased {
				t.Errorf("pending %+v, %v", pending, err)
			}
			for _, l := range ls {
				if err := o.DeadLetter(ctx, l, len(l.Records), usage.DeadLetter{Reason: "422", Status: 422, Error: "no", At: later}, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			dl, err := o.DeadLetters(ctx)
			if s, _ := o.Summary(ctx); err != nil || len(dl) != 2 || s.Queued != 0 || s.DeadLetters != 2 || !s.Oldest.IsZero() {
				t.Errorf("dead letters %+v, %v, summary %+v", dl, err, s)
			}
		})
	}
}
