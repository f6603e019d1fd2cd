package kelviq

import (
	"net/http"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// DefaultTimeout bounds a whole call (all its attempts) when the client
// makes its own http.Client. Pass WithHTTPClient to choose another; a
// context deadline always applies as well. A call whose context cannot be
// cancelled (context.Background) may run up to 1% of a timeout of 10 s or
// more past it (0.8 s of DefaultTimeout): such calls share their deadline,
// which saves a timer per call (deadline.go).
const DefaultTimeout = 80 * time.Second

// Client calls the kelviq API. Every operation of the spec is a method,
// e.g. ListCustomersWithResponse, with typed parameters, bodies and results:
// the generated ones of api.ClientWithResponses (embedded), written again on
// Client (calls.gen.go) so that a success body that does not decode is an
// error naming the call. A Client is safe for concurrent use; make one and
// share it.
type Client struct {
	*api.ClientWithResponses

	env        Environment
	router     *router
	httpClient *http.Client
	maxPages   int       // of one iterator walk
	red        *redactor // the keys, redacted from errors
}

// NewClient returns a client configured by opts. It needs at least one
// credential (WithServerKey, WithPartnerKey, or FromEnv finding one), and
// checks every option: an error names the option or variable at fault,
// wraps ErrInvalidConfig, and never contains a key.
func NewClient(opts ...Option) (*Client, error) {
	var cfg config
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	r, err := newRouter(s)
	if err != nil {
		return nil, err
	}
	mw, err := newMiddlewares(&cfg, r)
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(s, mw)
	checker := newResponseChecker(s, r, hc, callTimeout(s))
	checker.mw = mw
	gen, err := api.NewClient(r.base.String(),
		// The response check routes each request (credential and host)
		// before sending it, after every request editor has run.
		api.WithHTTPClient(checker),
	)
	if err != nil {
		return nil, err
	}
	// Path parameters are checked before a request is built (pathparams.go).
	withResponses := &api.ClientWithResponses{ClientInterface: guardedClient{gen}}
	return &Client{ClientWithResponses: withResponses, env: s.env, router: r, httpClient: hc, maxPages: s.maxPages, red: newRedactor(s.serverKey, s.partnerKey)}, nil
}

// Environment returns the environment the client calls.
func (c *Client) Environment() Environment { return c.env }

// callTimeout bounds a whole call: the caller's http.Client Timeout, or
// DefaultTimeout for the client's own.
func callTimeout(s *settings) time.Duration {
	if s.httpClient != nil {
		return s.httpClient.Timeout
	}
	return DefaultTimeout
}

// newHTTPClient copies the caller's http.Client (or makes one) and wraps its
// transport and redirect policy; the caller's client is never modified.
//
// The chain of one call: the generated method → request editors (routing,
// credential) → responseChecker (call.go: the call's timeout, then judges
// the final response) → this http.Client (redirectPolicy) → retryTransport
// (retry.go) → the attempt level of the middlewares (middleware.go) → the
// caller's transport → the wire. The copy's Timeout is
// zero: responseChecker applies callTimeout(s) to the whole call instead,
// as a context deadline, which net/http's Timeout would do at the cost of a
// goroutine per request with a transport that is not an *http.Transport.
func newHTTPClient(s *settings, mw *middlewares) *http.Client {
	var hc http.Client
	if s.httpClient != nil {
		hc = *s.httpClient
	}
	hc.Timeout = 0
	next := hc.Transport
	if next == nil {
		next = sharedTransport()
	}
	if mw != nil {
		next = &middlewareTransport{next: next, m: mw, roundTrip: next.RoundTrip}
	}
	ops := newOpFinder(s)
	// Also with one attempt (WithRetries(0)): WithCallRetries may ask for more.
	next = &retryTransport{next: next, policy: s.retry, logger: s.logger, ops: ops, clock: s.clock, red: newRedactor(s.serverKey, s.partnerKey)}
	hc.Transport = next
	hc.CheckRedirect = redirectPolicy(hc.CheckRedirect, ops)
	return &hc
}

// The XxxWithResponse methods of calls.gen.go keep the generated
// signatures: a Client is still an api.ClientWithResponsesInterface.
var _ api.ClientWithResponsesInterface = (*Client)(nil)
