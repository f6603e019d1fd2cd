package usage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// failingDeadLetters is an outbox whose next DeadLetter fails.
type failingDeadLetters struct {
	Outbox
	mu    sync.Mutex
	fails int
}

func (s *failingDeadLetters) DeadLetter(ctx context.Context, l *Lease, n int, dl DeadLetter, nb time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return errors.New("disk full")
	}
	return s.Outbox.DeadLetter(ctx, l, n, dl, nb)
}

// Under AtMostOnce a DELTA answered 502 (applied, maybe) goes to the dead
// letters; when that move failed in the store, the next send sent the
// DELTA again, and kelviq counted it twice. The move is retried first now.
func TestFailedDeadLetterMoveIsRetriedBeforeSendingAgain(t *testing.T) {
	var mu sync.Mutex
	requests, sum := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body api.ReportUsageRequest
		_ = json.NewDecoder(req.Body).Decode(&body)
		mu.Lock()
		requests++
		sum += body.Value
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway) // applied all the same
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_usage"), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var drops int
	r, err := NewReporter(c, WithMemory(), WithDelivery(AtMostOnce), WithOnDropped(func(Report, error) { drops++ }),
		func(c *config) {
			c.wrapOutbox = func(o Outbox) Outbox { return &failingDeadLetters{Outbox: o, fails: 1} }
		})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	ctx := context.Background()
	if err := r.Report(ctx, "c1", "calls", 7, api.ReportUsageRequestBehaviourDELTA); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, _ = r.Flush(ctx)
	}
	mu.Lock()
	defer mu.Unlock()
	s := r.Stats()
	if requests != 1 || sum != 7 || s.Uncertain != 1 || s.Queued != 0 || drops != 1 {
		t.Errorf("%d requests (sum %d), stats %+v, %d callbacks; want 1 request, 1 uncertain", requests, sum, s, drops)
	}
	if dl, err := r.DeadLetters(); err != nil || len(dl) != 1 {
		t.Errorf("dead letters %+v, %v", dl, err)
	}
}

// failingDeletes is an outbox whose next Done with a delete fails.
type failingDeletes struct {
	Outbox
	mu    sync.Mutex
	fails int
}

func (s *failingDeletes) Done(ctx context.Context, l *Lease, delivered int, nb time.Time) error {
	s.mu.Lock()
	if delivered > 0 && s.fails > 0 {
		s.fails--
		s.mu.Unlock()
		return errors.New("disk full")
	}
	s.mu.Unlock()
	return s.Outbox.Done(ctx, l, delivered, nb)
}

// kelviq took a report, its delete failed in the store, and Close came
// with its context already done: the delete, retried only before the
// pair's next send, was never made, and the next start sent the report
// again (counted twice) without any crash. Close makes it now.
func TestCloseMakesTheDeleteThatFailed(t *testing.T) {
	c, requests := newCountingAPI(t)
	path := t.TempDir() + "/outbox.db"
	// (A long backoff keeps the background sender from retrying the delete.)
	var failing *failingDeletes
	r, err := NewReporter(c, WithPath(path), WithBackoff(time.Hour, time.Hour), func(c *config) {
		c.wrapOutbox = func(o Outbox) Outbox { failing = &failingDeletes{Outbox: o, fails: 1 << 30}; return failing }
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Report(ctx, "c1", "calls", 7, api.ReportUsageRequestBehaviourDELTA); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Flush(ctx); err == nil {
		t.Fatal("Flush: no error, want the failed delete")
	}
	failing.mu.Lock()
	failing.fails = 0 // the disk has room again
	failing.mu.Unlock()
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.Close(done); err != nil {
		t.Fatalf("Close: %v", err)
	}
	next, err := NewReporter(c, WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close(ctx)
	if _, err := next.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := requests(); n != 1 || next.Stats().Sent != 0 {
		t.Errorf("%d requests; the next start sent %d: want the report sent once", n, next.Stats().Sent)
	}
}

// cancelOnMark is an outbox that runs cancel while it makes a mark: the
// context ends during the mark's sync.
type cancelOnMark struct {
	Outbox
	cancel context.CancelFunc
}

func (s *cancelOnMark) Mark(ctx context.Context, l *Lease, n int) error {
	s.cancel()
	return s.Outbox.Mark(ctx, l, n)
}

// Under AtMostOnce a DELTA is marked in flight (one sync) before it is
// sent. When the flush's context ended during that sync (a Close with a
// deadline), the request was made anyway, failed at once, and counted as
// ambiguous: the report went to the dead letters although nothing was
// sent. It stays queued now, and nothing is sent.
func TestContextEndingDuringTheMarkSendsNothing(t *testing.T) {
	c, requests := newCountingAPI(t)
	// The background sender leaves the pair alone: only Flush sends.
	ctx, cancel := context.WithCancel(context.Background())
	r, err := NewReporter(c, WithMemory(), WithDelivery(AtMostOnce), func(c *config) {
		c.senderOff = true
		c.wrapOutbox = func(o Outbox) Outbox { return &cancelOnMark{Outbox: o, cancel: cancel} }
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	if err := r.Report(ctx, "c1", "calls", 7, api.ReportUsageRequestBehaviourDELTA); err != nil {
		t.Fatal(err)
	}
	n, ferr := r.Flush(ctx)
	if s := r.Stats(); n != 1 || !errors.Is(ferr, context.Canceled) || requests() != 0 || s.Uncertain != 0 || s.Queued != 1 {
		t.Errorf("Flush = %d, %v; %d requests, stats %+v; want the report still queued, nothing sent", n, ferr, requests(), s)
	}
}

// newCountingAPI returns a client of a loopback kelviq that answers every
// request 200, and a count of the requests.
func newCountingAPI(t *testing.T) (*kelviq.Client, func() int) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_usage"), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c, func() int { return int(n.Load()) }
}
