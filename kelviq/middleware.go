package kelviq

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/kelviq/kelviq-go/api"
)

// Middleware observes or changes the requests of a client's calls: tracing,
// metrics, logging, an extra header. It gets the request, the operation it
// belongs to and next, which sends it on; it returns what next returned, or
// its own response or error.
//
// A middleware runs at two levels, which Operation.Attempt tells apart:
//
//   - Once per call, with Attempt 0, after routing (the operation, its
//     credential and host are settled) and before the call's deadline.
//     next then runs the whole call: every attempt, the redirects, and the
//     judgement of the final response, so it returns the call's result (a
//     success response, or the call's error: an *Error for a status the
//     operation does not declare). A response of the middleware's own
//     (a cache's) is judged the same way, as if the server had sent it.
//     A call that kelviq refuses after routing
//     (a missing key, no sandbox server, a bad page_size) runs this level
//     too: next returns the refusal, and nothing is sent. A request that
//     matches no operation runs no middleware.
//   - Once per attempt (and per redirect hop), with Attempt 1, 2, …, below
//     the retry transport: next sends that attempt through the caller's
//     transport, and the retry decision is taken on what the middleware
//     returns.
//
// A middleware that only cares about attempts passes the call level
// through: if op.Attempt == 0 { return next(req) }. A context set on the
// request at the call level (req.WithContext) is the parent of every
// attempt's request context: that is how a call span becomes the parent of
// its attempt spans (see package kelviqotel).
//
// Middlewares run in the order given: the first one given is the outermost,
// at either level. A middleware must not modify req itself: to change it,
// pass next a copy (req.Clone, req.WithContext). It must not change the
// request's method, URL or credential headers either: the request is
// routed, and carries the call's credential header as the server will
// receive it; never log or record request headers. A request a middleware
// passes next for another scheme or host than it was given is refused,
// nothing sent, at either level: it carries the key. Operation never holds
// a key. Returning neither a response nor an error fails the call with an
// error saying so; a response returned beside an error is closed.
type Middleware func(req *http.Request, op Operation, next MiddlewareNext) (*http.Response, error)

// MiddlewareNext sends a request on: to the next middleware, then (at the
// call level) the call's attempts or (at the attempt level) the caller's
// transport.
type MiddlewareNext func(*http.Request) (*http.Response, error)

// CredentialKind says which kind of key a call carries, never the key.
type CredentialKind string

// The kinds of credential a call can carry.
const (
	// CredentialNone: the operation takes no credential, or the client has
	// none of those it accepts (the call is refused).
	CredentialNone CredentialKind = "none"
	// CredentialServerKey: "Authorization: Bearer <server key>".
	CredentialServerKey CredentialKind = "server_key"
	// CredentialPartnerKey: "X-Kelviq-Partner-Key: <partner key>".
	CredentialPartnerKey CredentialKind = "partner_key"
)

// Operation describes the call a middleware sees: the spec's operation and
// which attempt this is. It holds no key, no parameter value, no body.
type Operation struct {
	// ID is the spec's operationId, e.g. "listCustomers".
	ID string
	// Method is the HTTP method, upper case.
	Method string
	// PathTemplate is the operation's path, e.g. "/customers/{customerId}/",
	// relative to its server: never a parameter value.
	PathTemplate string
	// Credential is the kind of key the call carries.
	Credential CredentialKind
	// Edge reports an operation of kelviq's edge API (entitlements,
	// promotions), which has its own hosts.
	Edge bool
	// Attempt is 0 for the call as a whole, then 1, 2, … for each attempt
	// (a redirect hop counts as one). See Middleware.
	Attempt int
}

// WithMiddleware adds m to the client's middlewares; unlike other options,
// each WithMiddleware adds one more, and they run in the order given. A nil
// m is an error of NewClient. See Middleware for where it runs.
func WithMiddleware(m Middleware) Option {
	return func(c *config) {
		c.middlewares = append(c.middlewares, m)
		if m == nil {
			c.nilMiddleware = true
		}
	}
}

// middlewares is a client's middleware chain, and the Operation of every
// operation for it, made once per client.
type middlewares struct {
	list []Middleware
	ops  map[*api.Operation]Operation // Attempt 0
}

// newMiddlewares checks the configured middlewares; nil when there are none,
// so that a client without any pays nothing for them.
func newMiddlewares(c *config, r *router) (*middlewares, error) {
	if c.nilMiddleware {
		return nil, configError("WithMiddleware", "the middleware is nil")
	}
	if len(c.middlewares) == 0 {
		return nil, nil
	}
	m := &middlewares{list: c.middlewares, ops: make(map[*api.Operation]Operation, len(api.Operations))}
	for i := range api.Operations {
		op := &api.Operations[i]
		kind := CredentialNone
		if r != nil {
			switch h := r.creds[i].header; {
			case h == "Authorization":
				kind = CredentialServerKey
			case h != "":
				kind = CredentialPartnerKey
			}
		}
		m.ops[op] = Operation{ID: op.ID, Method: op.Method, PathTemplate: op.Path, Credential: kind, Edge: op.Edge}
	}
	return m, nil
}

// callStateKey keys a call's *callState in its request context.
type callStateKey struct{}

// callState is what the attempt level needs of its call. It is the call's
// context too (one allocation instead of a state and a context.WithValue):
// it answers callStateKey and hands every other key, Done and Deadline to
// the request's context, so contexts derived from it (the call's deadline)
// see their parent's cancellation as usual.
type callState struct {
	context.Context
	op       Operation
	attempts atomic.Int32
}

func (s *callState) Value(key any) any {
	if key == (callStateKey{}) {
		return s
	}
	return s.Context.Value(key)
}

// operation is op's Operation at the call level; also for an operation not
// in api.Operations (tests), by its fields.
func (m *middlewares) operation(op *api.Operation) Operation {
	if o, ok := m.ops[op]; ok {
		return o
	}
	return Operation{ID: op.ID, Method: op.Method, PathTemplate: op.Path, Credential: CredentialNone, Edge: op.Edge}
}

// call runs the call level of the chain around c.send.
func (m *middlewares) call(req *http.Request, op *api.Operation, c *responseChecker) (*http.Response, error) {
	st := &callState{Context: req.Context(), op: m.operation(op)}
	// Kept aside: the copy a middleware gets shares req's URL, which a
	// careless one may change in place.
	scheme, host := req.URL.Scheme, req.URL.Host
	var judged atomic.Pointer[http.Response] // the last response of c.send (a hedging middleware calls next at once twice)
	resp, err := m.run(req.WithContext(st), st.op, 0, func(r *http.Request) (*http.Response, error) {
		if err := sameOrigin(scheme, host, r); err != nil {
			return nil, &callError{op: op, req: req, err: err, red: c.red}
		}
		resp, err := c.send(r, op)
		judged.Store(resp)
		return resp, err
	})
	if resp, err = checkOutcome(op, resp, err); err != nil || resp == judged.Load() {
		return resp, err
	}
	// A middleware's own response (a cache's, a stub's) is judged as the
	// server's is: a status the operation does not declare is an *Error,
	// a declared JSON body needs a JSON Content-Type and a length, so
	// that JSONxxx is set whenever the error is nil.
	return c.judge(op, req, resp, nil)
}

// sameOrigin refuses a request that a middleware sent to another scheme or
// host than the one it was given: the request carries the operation's key,
// which must reach kelviq's host only (a redirect off-origin drops it,
// redirect.go; a middleware is below that policy). Nothing is sent.
func sameOrigin(scheme, host string, sent *http.Request) error {
	if sent == nil || sent.URL == nil {
		return errors.New("a middleware passed next a nil request: refused, nothing sent")
	}
	if sent.URL.Host == host && sent.URL.Scheme == scheme {
		return nil
	}
	// Not the new host itself: a middleware may have built it from
	// anything, userinfo included.
	return fmt.Errorf("a middleware sent the request to another scheme or host than %s://%s: refused, nothing sent (it carries the operation's key)", scheme, host)
}

// checkOutcome keeps what a middleware returned at the call level from
// reaching the generated parser half-made: neither a response nor an
// error is an error naming the call, and a response beside an error is
// closed.
func checkOutcome(op *api.Operation, resp *http.Response, err error) (*http.Response, error) {
	switch {
	case err != nil && resp != nil:
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, err
	case err == nil && resp == nil:
		return nil, fmt.Errorf("kelviq: %s (%s %s): a middleware returned neither a response nor an error", op.ID, op.Method, op.Path)
	case err == nil && resp.Body == nil:
		resp.Body = http.NoBody
	}
	return resp, err
}

// refused runs the call level of the chain for a call refused after
// routing: the last next returns the refusal, and nothing is sent.
func (m *middlewares) refused(req *http.Request, op *api.Operation, refusal error) (*http.Response, error) {
	o := m.operation(op)
	o.Credential = CredentialNone
	resp, err := m.run(req, o, 0, func(*http.Request) (*http.Response, error) { return nil, refusal })
	return checkOutcome(op, resp, err)
}

// run calls middleware i with op, its next running the rest, then last.
func (m *middlewares) run(req *http.Request, op Operation, i int, last MiddlewareNext) (*http.Response, error) {
	if i == len(m.list) {
		return last(req)
	}
	if i == len(m.list)-1 {
		// The last middleware's next is last itself: a closure around
		// it would only call it (one allocation per call and attempt).
		return m.list[i](req, op, last)
	}
	return m.list[i](req, op, func(r *http.Request) (*http.Response, error) {
		return m.run(r, op, i+1, last)
	})
}

// middlewareTransport runs the attempt level of the chain, below the retry
// transport and above the caller's transport.
type middlewareTransport struct {
	next      http.RoundTripper
	m         *middlewares
	roundTrip MiddlewareNext // next.RoundTrip, made once instead of per attempt
}

func (t *middlewareTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(callStateKey{}).(*callState)
	if st == nil {
		// Not a call of the client (its http.Client used directly): no
		// operation to give.
		return t.next.RoundTrip(req)
	}
	op := st.op
	op.Attempt = int(st.attempts.Add(1))
	scheme, host := req.URL.Scheme, req.URL.Host // before a middleware may change req.URL in place
	last := t.roundTrip
	if last == nil {
		last = t.next.RoundTrip
	}
	resp, err := t.m.run(req, op, 0, func(r *http.Request) (*http.Response, error) {
		// The retry transport and net/http's redirect policy are above
		// this level: only this check keeps a middleware from carrying
		// the key to another host.
		if err := sameOrigin(scheme, host, r); err != nil {
			return nil, fmt.Errorf("kelviq: %s (%s %s): attempt %d: %w", op.ID, op.Method, op.PathTemplate, op.Attempt, err)
		}
		return last(r)
	})
	// What the retry transport and net/http take from a RoundTripper: a
	// response or an error, not both (net/http would drop the response
	// unclosed) and not neither (the retry decision reads the status).
	switch {
	case err != nil && resp != nil:
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, err
	case err == nil && resp == nil:
		return nil, fmt.Errorf("kelviq: %s (%s %s): attempt %d: a middleware returned neither a response nor an error", op.ID, op.Method, op.PathTemplate, op.Attempt)
	case err == nil && resp.Body == nil:
		resp.Body = http.NoBody
	}
	return resp, err
}

// refusedOperation finds the operation of a request that routing refused,
// for the call level of the middlewares; nil when it matches none.
func (r *router) refusedOperation(req *http.Request) *api.Operation {
	if req.URL.Opaque != "" || req.URL.Host != r.base.host || req.URL.Scheme != r.base.scheme {
		return nil
	}
	rel, ok := strings.CutPrefix(req.URL.EscapedPath(), r.base.path)
	if !ok || hasDotSegment(rel) {
		return nil
	}
	op, _ := operations.lookup(req.Method, rel)
	if op == nil {
		return nil
	}
	if want := builtForOf(req.Context()); want != "" && want != op.ID {
		return nil
	}
	return op
}
