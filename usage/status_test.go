package usage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// Which answers are retried and which dead-letter the report: 408, 429
// and 5xx pass, any other 4xx is permanent. (A SET here, so that the 5xx
// are retried under the default AtLeastOnce and AtMostOnce alike.)
func TestStatusesRetriedOrDropped(t *testing.T) {
	for _, tc := range []struct {
		status  int
		dropped bool
	}{
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
		{http.StatusServiceUnavailable, false},
		{http.StatusBadRequest, true},
		{http.StatusUnauthorized, true},
		{http.StatusForbidden, true},
		{http.StatusNotFound, true},
		{http.StatusConflict, true},
		{http.StatusUnprocessableEntity, true},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			fake := newFakeAPI(t, "")
			fake.setAnswer(func(n int, _ got) (int, http.Header, bool) {
				if n == 0 {
					return tc.status, nil, false
				}
				return http.StatusOK, nil, true
			})
			var drops atomic.Int32
			r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory(), usage.WithDelivery(usage.AtMostOnce),
				usage.WithOnDropped(func(usage.Report, error) { drops.Add(1) }))
			if err := r.Report(context.Background(), "c1", "seats", 4, set); err != nil {
				t.Fatal(err)
			}
			_, _ = r.Flush(context.Background())
			flushAll(t, r)
			s := r.Stats()
			if tc.dropped {
				if s.Dropped != 1 || drops.Load() != 1 || s.Sent != 0 || len(fake.received()) != 1 {
					t.Errorf("want dropped after one request: %+v, %d callbacks, %d requests", s, drops.Load(), len(fake.received()))
				}
				return
			}
			if s.Sent != 1 || s.Retried != 1 || s.Dropped != 0 || drops.Load() != 0 || fake.sum(pair{"c1", "seats"}) != 4 {
				t.Errorf("want sent on the retry: %+v, %d callbacks, sum %d", s, drops.Load(), fake.sum(pair{"c1", "seats"}))
			}
		})
	}
}

// Without Flush, the background sender delivers on its own.
func TestBackgroundSenderDelivers(t *testing.T) {
	fake := newFakeAPI(t, "")
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory())
	for i := range 5 {
		if err := r.Report(context.Background(), "c1", "seats", i, delta); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for r.Stats().Sent < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %+v", r.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := fake.sum(pair{"c1", "seats"}); got != 10 {
		t.Errorf("sum %d, want 10", got)
	}
}

// A 2xx whose body fails the client's checks (not JSON here) was still
// taken by kelviq: it is not sent again.
func TestOdd2xxCountsAsDelivered(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>ok</html>"))
	}))
	defer srv.Close()
	r := newReporter(t, newClient(t, srv.URL), usage.WithMemory())
	if err := r.Report(context.Background(), "c1", "seats", 1, delta); err != nil {
		t.Fatal(err)
	}
	flushAll(t, r)
	flushAll(t, r)
	if s := r.Stats(); requests.Load() != 1 || s.Sent != 1 || s.Retried != 0 {
		t.Errorf("%d requests, stats %+v; want one request, sent", requests.Load(), s)
	}
}
