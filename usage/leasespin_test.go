package usage

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// expiredLeases is an outbox whose Claim answers so late that each lease
// has run out when the sender gets it (a Redis slower than the lease).
type expiredLeases struct {
	Outbox
	claims atomic.Int64
}

func (o *expiredLeases) Claim(ctx context.Context, now time.Time, maxPairs, perPair int) ([]*Lease, time.Time, error) {
	o.claims.Add(1)
	ls, next, err := o.Outbox.Claim(ctx, now, maxPairs, perPair)
	for _, l := range ls {
		l.Expires = now
	}
	return ls, next, err
}

// A lease that ends too soon to send is given back with a backoff: it
// used to be given back due at once, so the sender claimed it again and
// again without pause, hammering a slow outbox as fast as it answered.
func TestLeaseTooShortBacksOff(t *testing.T) {
	var answered atomic.Int32
	c, err := kelviq.NewClient(kelviq.WithBaseURL(newHangingServer(t, &answered)), kelviq.WithServerKey("sk_test_usage"), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var ob *expiredLeases
	r, err := NewReporter(c, WithMemory(), WithBackoff(time.Second, time.Second), func(c *config) {
		c.wrapOutbox = func(o Outbox) Outbox { ob = &expiredLeases{Outbox: o}; return ob }
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	if err := r.Report(context.Background(), "c1", "calls", 1, api.ReportUsageRequestBehaviourDELTA); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := ob.claims.Load(); n > 100 {
		t.Errorf("%d claims in 500 ms of a lease that is always too short: the sender spins", n)
	}
	if answered.Load() != 0 {
		t.Errorf("%d requests sent on expired leases", answered.Load())
	}
}
