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

// Under AtMostOnce the in-flight mark survives the death of the instance
// that set it: the Reporter that takes the pair over after the lease
// expires dead-letters the marked DELTAs as uncertain instead of sending
// them again, and sends what was stored after them.
func TestAtMostOnceMarksSurviveAKill(t *testing.T) {
	srv := redistest.StartPersistent(t)
	fake := newFakeAPI(t)
	ctx := context.Background()
	dead, err := redisoutbox.New(newClient(t, srv), "amo:", redisoutbox.WithLeaseTTL(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	rep := func(v int) usage.Report {
		return usage.Report{CustomerID: "c", FeatureID: "f", Value: v, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()}
	}
	if err := dead.Append(ctx, []usage.Report{rep(1), rep(2), rep(3)}); err != nil {
		t.Fatal(err)
	}
	// What an instance killed mid-request leaves: a lease, and its records
	// marked in flight.
	ls, _, err := dead.Claim(ctx, time.Now(), 10, 10)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim: %v, %v", ls, err)
	}
	if err := dead.Mark(ctx, ls[0], 3); err != nil {
		t.Fatal(err)
	}
	if err := dead.Append(ctx, []usage.Report{rep(40)}); err != nil {
		t.Fatal(err)
	}

	o, err := redisoutbox.New(newClient(t, srv), "amo:", redisoutbox.WithLeaseTTL(500*time.Millisecond), redisoutbox.WithPollInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r, err := usage.NewReporter(newKelviq(t, fake.srv.URL, goodKey, "amo"), usage.WithOutbox(o), usage.WithDelivery(usage.AtMostOnce))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, err := o.Summary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := fake.sum(pair{"c", "f"}); got != 40 {
		t.Fatalf("kelviq has %d, want 40: the marked 1+2+3 must not be sent again under AtMostOnce", got)
	}
	dls, err := o.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 3 {
		t.Fatalf("%d dead letters, want the 3 marked reports", len(dls))
	}
	for i, d := range dls {
		if d.Reason != "uncertain" || d.Report.Value != i+1 {
			t.Fatalf("dead letter %d: %+v, want value %d as uncertain", i, d, i+1)
		}
	}
}
