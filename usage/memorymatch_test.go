package usage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// A match function that panics part way (a careless caller's) leaves the
// memory outbox's dead letters as they were: the in-place compaction used
// to leave one dead letter twice, or one both requeued and still dead.
func TestMemoryMatchPanicChangesNothing(t *testing.T) {
	ctx := context.Background()
	for _, op := range []string{"requeue", "purge"} {
		t.Run(op, func(t *testing.T) {
			o := usage.NewMemoryOutbox()
			var rs []usage.Report
			for i := range 3 {
				rs = append(rs, usage.Report{CustomerID: fmt.Sprintf("c%d", i), FeatureID: "f", Value: 1, Behaviour: delta, StoredAt: time.Now()})
			}
			if err := o.Append(ctx, rs); err != nil {
				t.Fatal(err)
			}
			ls, _, err := o.Claim(ctx, time.Now(), 10, 10)
			if err != nil || len(ls) != 3 {
				t.Fatalf("Claim: %d, %v", len(ls), err)
			}
			for _, l := range ls {
				if err := o.DeadLetter(ctx, l, 1, usage.DeadLetter{Reason: "401", At: time.Now()}, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := o.DeadLetters(ctx)
			k := 0
			match := func(d usage.DeadLetter) bool {
				k++
				if k == 3 {
					panic("careless match")
				}
				return k == 1 == (op == "requeue") // requeue the first; purge the second
			}
			func() {
				defer func() { _ = recover() }()
				if op == "requeue" {
					_, _ = o.RequeueDeadLetters(ctx, match)
				} else {
					_, _ = o.PurgeDeadLetters(ctx, match)
				}
			}()
			after, _ := o.DeadLetters(ctx)
			s, _ := o.Summary(ctx)
			if len(after) != 3 || s.Queued != 0 {
				t.Fatalf("after a panicking match: %d dead letters (%+v), %d queued; want the 3 as before, none queued", len(after), after, s.Queued)
			}
			for i := range after {
				if after[i].ID != before[i].ID {
					t.Fatalf("dead letters %+v, want %+v", after, before)
				}
			}
		})
	}
}
