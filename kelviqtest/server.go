package kelviqtest

import (
	"net/http/httptest"
	"testing"
	"time"
)

// Server is a fake kelviq API on a loopback port, for tests. Its methods
// are those of its Handler: Requests (what it received), ClearRequests,
// Stats, SetFault, ClearFaults, Reset, SpecDefects.
type Server struct {
	// URL is the server's base URL, for kelviq.WithBaseURL, e.g.
	// "http://127.0.0.1:34567".
	URL string
	// Handler is the fake itself.
	*Handler
}

// Requests returns the requests the server received, oldest first, as
// Handler.Requests does: operation, method, path, query, body, the kinds
// of credential they carried, the status answered and why a request was
// refused. At most the last Limits.Requests (10,000 by default) are kept;
// Stats().Dropped.Requests counts the others. They are copies: a test may
// change them freely.
//
//	for _, r := range srv.Requests() {
//		if r.OperationID == api.OpReportUsage { … }
//	}
func (s *Server) Requests() []Request { return s.Handler.Requests() }

// NewServer starts the fake kelviq API on a loopback port and closes it
// when the test ends (tb.Cleanup). It fails the test if an option is
// invalid. Point a client at it with
//
//	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL),
//		kelviq.WithServerKey(kelviqtest.ServerKey),
//		kelviq.WithPartnerKey(kelviqtest.PartnerKey))
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	h, err := NewHandler(opts...)
	if err != nil {
		tb.Fatalf("kelviqtest.NewServer: %v", err)
	}
	ts := httptest.NewUnstartedServer(h)
	// Bounded like cmd/kelviq-mock: a stalled client cannot hold a
	// connection (and its body buffer) for ever.
	ts.Config.ReadHeaderTimeout = 10 * time.Second
	ts.Config.ReadTimeout = 30 * time.Second
	ts.Config.IdleTimeout = 60 * time.Second
	ts.Start()
	tb.Cleanup(ts.Close)
	return &Server{URL: ts.URL, Handler: h}
}
