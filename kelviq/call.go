package kelviq

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// The pipeline of one call, in the order a request meets it:
//
//	generated method → request editors (calloptions.go: per-call options)
//	→ responseChecker.Do (this file): router.route (routing.go: operation,
//	credential, host; nothing is sent on an error) → the call level of the
//	middlewares (middleware.go) → whole-call deadline → http.Client
//	(redirect.go: no key off-origin) → retryTransport (retry.go) → the
//	attempt level of the middlewares → the caller's transport → wire.
//
// The response comes back the same way and is judged here: a declared
// success goes on to the generated parser through checkSuccess (size cap,
// declared content type), anything else becomes an *Error (errors.go).

// responseChecker is the HttpRequestDoer of the generated client: it sends
// through the client's *http.Client (retries and redirect policy included)
// and judges the final response. A success passes on to the generated
// parser, with a size limit; anything else becomes an *Error.
type responseChecker struct {
	hc        *http.Client
	timeout   time.Duration // of a whole call; see newHTTPClient
	router    *router       // routes each request first; nil in some tests
	ops       *opFinder
	maxBody   int64
	red       *redactor        // the keys, redacted from what the server says
	mw        *middlewares     // nil: none (middleware.go)
	deadlines *sharedDeadlines // of timeout; nil: each call its own (deadline.go)
}

func newResponseChecker(s *settings, r *router, hc *http.Client, timeout time.Duration) *responseChecker {
	return &responseChecker{hc: hc, timeout: timeout, router: r, ops: newOpFinder(s), maxBody: s.maxBody, red: newRedactor(s.serverKey, s.partnerKey),
		deadlines: newSharedDeadlines(timeout)}
}

// Do sends req and returns a success response, or an error.
//
// It also applies the http.Client's Timeout to the whole call, attempts,
// redirects and body included, as a context deadline: net/http's own
// Timeout costs a timer goroutine and a dozen allocations per request when
// the transport is not an *http.Transport, and ours is a retryTransport.
func (c *responseChecker) Do(req *http.Request) (*http.Response, error) {
	var op *api.Operation
	if c.router != nil {
		var err error
		if op, err = c.router.route(req); err != nil {
			if c.mw != nil {
				if refused := c.router.refusedOperation(req); refused != nil {
					return c.mw.refused(req, refused, err) // nothing is sent
				}
			}
			return nil, err // nothing was sent
		}
	} else {
		op = c.ops.find(req.Method, req.URL)
	}
	if c.mw != nil && op != nil {
		return c.mw.call(req, op, c)
	}
	return c.send(req, op)
}

// send is Do after routing: the call's deadline, the attempts, and the
// judgement of the final response.
func (c *responseChecker) send(req *http.Request, op *api.Operation) (*http.Response, error) {
	var cancel context.CancelFunc
	timeout, own := c.timeout, false
	if o := callOptionsOf(req.Context()); o != nil && o.timeout > 0 {
		timeout, own = o.timeout, true // WithCallTimeout
	}
	if timeout > 0 {
		ctx := req.Context()
		if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) > timeout {
			if shared, ok := c.deadlines.context(ctx); ok && !own {
				req = req.WithContext(shared) // deadline.go
			} else {
				ctx, cancel = context.WithTimeout(ctx, timeout)
				req = req.WithContext(ctx)
			}
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil, &callError{op: op, req: req, err: c.red.hide(err), red: c.red}
	}
	return c.judge(op, req, resp, cancel)
}

// judge turns the final response of a call into the call's result: a
// success response (checked by checkSuccess) or an error. cancel, when not
// nil, ends the call's timeout.
func (c *responseChecker) judge(op *api.Operation, req *http.Request, resp *http.Response, cancel context.CancelFunc) (*http.Response, error) {
	code := resp.StatusCode
	if (code >= 200 && code <= 299) || (op != nil && slices.Contains(op.Success, code)) {
		if err := c.checkSuccess(op, req, resp, cancel); err != nil {
			_ = resp.Body.Close()
			if cancel != nil {
				cancel()
			}
			return nil, err
		}
		return resp, nil
	}
	e := c.newError(op, req, resp)
	if cancel != nil {
		cancel()
	}
	return nil, e
}

// checkSuccess checks a success response before the generated parser reads
// it: its declared size and content type, and caps the body it will read.
// cancel, when not nil, ends the call's timeout once the body is closed.
func (c *responseChecker) checkSuccess(op *api.Operation, req *http.Request, resp *http.Response, cancel context.CancelFunc) error {
	if resp.ContentLength > c.maxBody {
		return fmt.Errorf("%w: %s: the server announced %d bytes, the limit is %d (kelviq.WithMaxResponseBytes)", ErrResponseTooLarge, opName(op, req), resp.ContentLength, c.maxBody)
	}
	if op != nil && declaresJSON(op, resp.StatusCode) {
		// The generated parser decodes only when the type says JSON, and
		// silently returns no value otherwise (JSON200 nil with no error):
		// say why instead. (A body that then does not decode is the
		// generated method's error, named in calls.gen.go.)
		ct := resp.Header.Get("Content-Type")
		if lower := strings.ToLower(ct); lower != ct && strings.Contains(lower, "json") {
			// A media type is case-insensitive (RFC 9110 8.3.1), the
			// generated parser's test for "json" is not: without this,
			// "Application/JSON" would leave JSONxxx nil.
			resp.Header.Set("Content-Type", lower)
			ct = lower
		}
		switch {
		case !strings.Contains(ct, "json"):
			return fmt.Errorf("%w: %s: status %d with Content-Type %q, the spec declares a JSON body", ErrUnexpectedResponse, opName(op, req), resp.StatusCode, c.red.text(ct, maxMessage))
		case resp.ContentLength == 0:
			return fmt.Errorf("%w: %s: status %d with an empty body (Content-Type %q), the spec declares a JSON body", ErrUnexpectedResponse, opName(op, req), resp.StatusCode, c.red.text(ct, maxMessage))
		}
	}
	// Unknown length (chunked): count. A known length needs no limit: the
	// transport never reads past Content-Length.
	limit := int64(0)
	if resp.ContentLength < 0 {
		limit = c.maxBody
	}
	if limit > 0 || cancel != nil {
		resp.Body = &callBody{rc: resp.Body, remaining: limit, limit: limit, cancel: cancel, op: op, req: req, red: c.red}
	}
	return nil
}

// opName names a call in an error: its operationId, else method and path.
func opName(op *api.Operation, req *http.Request) string {
	if op != nil {
		return op.ID
	}
	return req.Method + " " + req.URL.EscapedPath()
}

// callError is a call's network, timeout or context error, named by its
// operation; errors.Is and errors.As reach what it wraps (context.Canceled,
// *url.Error …). Its text is redacted: net/http quotes what a server sent
// in some errors (a malformed header line), and a server can echo a key.
type callError struct {
	op  *api.Operation
	req *http.Request
	err error
	red *redactor
}

func (e *callError) Error() string {
	msg := e.red.text(e.err.Error(), maxMessage)
	if e.op != nil {
		return "kelviq: " + e.op.ID + " (" + e.op.Method + " " + e.op.Path + "): " + msg
	}
	return "kelviq: " + e.req.Method + " " + e.req.URL.EscapedPath() + ": " + msg
}

func (e *callError) Unwrap() error { return e.err }

// declaresJSON reports whether the spec declares a JSON body for op's
// status. Not for 204 (and 205, 304), which HTTP says have no body: the spec
// declares JSON on five 204s by mistake (api/overlay.yaml drops them for
// the generated client, which has no JSON204 field to fill).
func declaresJSON(op *api.Operation, status int) bool {
	switch status {
	case http.StatusNoContent, http.StatusResetContent, http.StatusNotModified:
		return false
	}
	return slices.Contains(op.JSONSuccess, status)
}
