package redisoutbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

// A pair whose record (or whose name) Redis answers as garbage (another
// program wrote into the prefix) costs that pair, not the others claimed
// with it: Claim used to fail whole after its script had leased them all,
// so every pair of the batch stayed leased, unsent, for a lease period,
// each time the bad pair came due.
func TestGarbagePairDoesNotHoldOthers(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	rdb := newClient(t, srv)
	o, err := redisoutbox.New(rdb, "garbage:")
	if err != nil {
		t.Fatal(err)
	}
	var rs []usage.Report
	for _, c := range []string{"c1", "c2", "c3"} {
		rs = append(rs, usage.Report{CustomerID: c, FeatureID: "f", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()})
	}
	if err := o.Append(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]any{
		{"RPUSH", "{garbage:}:1:q:2:cXf", "garbage"},
		{"ZADD", "{garbage:}:1:due", 0, "2:cXf"},
		{"RPUSH", "{garbage:}:1:q:nonsense", "01|1|D1"},
		{"ZADD", "{garbage:}:1:due", 0, "nonsense"},
	} {
		if err := rdb.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ls, _, err := o.Claim(ctx, time.Now(), 10, 10)
	if err != nil || len(ls) != 3 {
		t.Fatalf("Claim with two garbage pairs among three good ones: %d leases, %v; want the 3 good ones", len(ls), err)
	}
	for _, l := range ls {
		if len(l.Records) != 1 || l.Records[0].Report.CustomerID != l.CustomerID {
			t.Fatalf("lease %+v", l)
		}
		if err := o.Done(ctx, l, 1, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// The garbage pairs are not handed out again and again (no hot loop):
	// they wait for their lease like a pair whose Reporter died.
	if ls, _, err := o.Claim(ctx, time.Now(), 10, 10); err != nil || len(ls) != 0 {
		t.Fatalf("second Claim: %d leases, %v; want none", len(ls), err)
	}
}

// A queue key Redis lost (evicted under a maxmemory policy other than
// noeviction, or deleted by hand) leaves nothing to send: Flush returns,
// instead of waiting, until its ctx ends (forever without a deadline), for
// reports the counters still counted and no Claim could find.
func TestLostQueueKeyDoesNotHoldFlush(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	rdb := newClient(t, srv)
	o, err := redisoutbox.New(rdb, "lost:")
	if err != nil {
		t.Fatal(err)
	}
	rep := usage.Report{CustomerID: "c1", FeatureID: "f", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()}
	if err := o.Append(ctx, []usage.Report{rep}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, "{lost:}:1:q:2:c1f").Err(); err != nil {
		t.Fatal(err)
	}
	fake := newFakeAPI(t)
	r, err := usage.NewReporter(newKelviq(t, fake.srv.URL, goodKey, "t"), usage.WithOutbox(o))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = r.Close(cctx)
	}()
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	n, err := r.Flush(fctx)
	if n != 0 || err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Flush after the queue key was lost = %d, %v after %v; want 0, nil at once", n, err, time.Since(start))
	}
	if s, err := o.Summary(ctx); err != nil || s.Queued != 0 {
		t.Fatalf("Summary = %+v, %v; want nothing queued", s, err)
	}
}

// A counter key another program overwrote fails Append, DeadLetter and
// requeue before their first write: Append used to push the records and
// then fail on n's INCRBY (an error for reports that were stored, and
// sent: twice once the caller retried), and a dead-letter move to pop the
// record and then fail on seq's INCR, losing it.
func TestGarbageCounterFailsWhole(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	rdb := newClient(t, srv)
	for _, key := range []string{"seq", "n"} {
		t.Run(key, func(t *testing.T) {
			prefix := "ctr" + key + ":"
			o, err := redisoutbox.New(rdb, prefix)
			if err != nil {
				t.Fatal(err)
			}
			rep := usage.Report{CustomerID: "c1", FeatureID: "f", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()}
			if err := o.Append(ctx, []usage.Report{rep}); err != nil {
				t.Fatal(err)
			}
			ls, _, err := o.Claim(ctx, time.Now(), 10, 10)
			if err != nil || len(ls) != 1 {
				t.Fatalf("Claim: %d, %v", len(ls), err)
			}
			k := "{" + prefix + "}:1:" + key
			if err := rdb.Set(ctx, k, "garbage", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := o.Append(ctx, []usage.Report{rep}); err == nil {
				t.Fatal("Append with a garbage counter succeeded")
			}
			if err := o.DeadLetter(ctx, ls[0], 1, usage.DeadLetter{Reason: "401", At: time.Now()}, time.Time{}); err == nil {
				t.Fatal("DeadLetter with a garbage counter succeeded")
			}
			if n, err := rdb.LLen(ctx, "{"+prefix+"}:1:q:2:c1f").Result(); err != nil || n != 1 {
				t.Fatalf("after the failed calls the pair holds %d records (%v), want the 1 stored", n, err)
			}
			if n, err := rdb.HLen(ctx, "{"+prefix+"}:1:dh").Result(); err != nil || n != 0 {
				t.Fatalf("%d dead letters (%v), want 0", n, err)
			}
		})
	}
}
