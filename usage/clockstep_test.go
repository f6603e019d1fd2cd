package usage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Close sends what a memory outbox holds even when the wall clock was set
// back after the reports were stored (an NTP step): Flush's cut-off ("what
// was stored before the call") read their StoredAt as later than the
// call, so Close sent nothing and the memory outbox lost it all.
func TestCloseAfterClockSetBackSendsAll(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_usage"), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r, err := NewReporter(c, WithMemory(), func(c *config) { c.now, c.senderOff = clock, true })
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := r.Report(context.Background(), "c1", "calls", i+1, api.ReportUsageRequestBehaviourDELTA); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	now = now.Add(-time.Hour) // the clock is set back
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got.Load() == 0 {
		t.Fatal("Close sent nothing: the memory outbox's reports are lost")
	}
}
