package kelviq

import (
	"net/http"
	"sync"
)

// maxIdleConnsPerHost is how many idle connections the shared transport
// keeps per host. net/http's default keeps 2: a service making more
// concurrent calls than that (the usage sender sends 4 pairs at once, a
// gate checks many customers at once) then closes a connection after
// nearly every call and opens a new one (a TCP and TLS handshake) for the
// next. kelviq has few hosts (core and edge), so the pool stays small.
const maxIdleConnsPerHost = 64

// sharedTransport is the transport of every client made without
// WithHTTPClient (or with one whose Transport is nil): net/http's
// DefaultTransport as it is when the first such client is made (proxy from
// the environment, its timeouts, HTTP/2), cloned once per process so that
// the clients share one connection pool, with maxIdleConnsPerHost. When a
// program has replaced http.DefaultTransport with another RoundTripper,
// that one is used as it is.
var sharedTransport = sync.OnceValue(func() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	c := t.Clone()
	c.MaxIdleConnsPerHost = max(c.MaxIdleConnsPerHost, maxIdleConnsPerHost)
	if c.MaxIdleConns != 0 {
		c.MaxIdleConns = max(c.MaxIdleConns, 2*maxIdleConnsPerHost)
	}
	return c
})
