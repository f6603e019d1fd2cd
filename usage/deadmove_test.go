package usage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// failingDeadLetters is a store whose next deadLetter fails.
type failingDeadLetters struct {
	store
	mu    sync.Mutex
	fails int
}

func (s *failingDeadLetters) deadLetter(recs []record, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return errors.New("disk full")
	}
	return s.store.deadLetter(recs, reason)
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
	r, err := NewReporter(c, WithMemory(), WithDelivery(AtMostOnce), WithOnDropped(func(Report, error) { drops++ }))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	r.store = &failingDeadLetters{store: r.store, fails: 1} // before any report: the writer and sender see it
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
