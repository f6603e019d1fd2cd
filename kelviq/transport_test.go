package kelviq_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Concurrent calls of a client made without WithHTTPClient keep their
// connections: net/http's DefaultTransport keeps 2 idle per host, so 8
// goroutines calling in a loop opened a new connection for about one call
// in six (282 of 1,600 here); the shared transport keeps up to 64, so each goroutine
// keeps its connection (a few more are dialed when a request starts just
// before another returns its connection to the pool).
func TestConcurrentCallsReuseConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_transport"), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, calls = 8, 200
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range calls {
				_, err := c.ReportUsageWithResponse(context.Background(), api.ReportUsageJSONRequestBody{
					CustomerID: "c1", FeatureID: "f1", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA,
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n > 2*goroutines {
		t.Errorf("%d connections opened for %d calls from %d goroutines; want at most %d (about one per goroutine)", n, goroutines*calls, goroutines, 2*goroutines)
	}
}
