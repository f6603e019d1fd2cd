package usage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// shortLeases is an outbox whose leases last ttl.
type shortLeases struct {
	Outbox
	ttl time.Duration
}

func (o *shortLeases) Claim(ctx context.Context, now time.Time, maxPairs, perPair int) ([]*Lease, time.Time, error) {
	ls, next, err := o.Outbox.Claim(ctx, now, maxPairs, perPair)
	for _, l := range ls {
		l.Expires = now.Add(o.ttl)
	}
	return ls, next, err
}

// A lease's request ends before the lease does, whatever the request
// timeout: past its expiry another Reporter may send the same pair.
func TestRequestEndsBeforeItsLease(t *testing.T) {
	var answered atomic.Int32
	srv := newHangingServer(t, &answered)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv), kelviq.WithServerKey("sk_test_usage"), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReporter(c, WithMemory(), WithBackoff(time.Hour, time.Hour), func(c *config) {
		c.wrapOutbox = func(o Outbox) Outbox { return &shortLeases{Outbox: o, ttl: 500 * time.Millisecond} }
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	start := time.Now()
	if err := r.Report(context.Background(), "c1", "calls", 1, api.ReportUsageRequestBehaviourDELTA); err != nil {
		t.Fatal(err)
	}
	for r.Stats().Retried == 0 && time.Since(start) < 5*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	if took := time.Since(start); r.Stats().Retried != 1 || took > 500*time.Millisecond+time.Second {
		t.Errorf("the request gave up after %v (stats %+v); want before the 500 ms lease ended", took, r.Stats())
	}
}

// newHangingServer answers nothing until the test ends.
func newHangingServer(t *testing.T, n *atomic.Int32) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { n.Add(1); <-release }))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL
}
