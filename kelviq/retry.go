package kelviq

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// RetryPolicy says how often and how patiently the client retries a request
// that failed in a way that may pass. It is on by default
// (DefaultRetryPolicy); set it with WithRetryPolicy, or only the number of
// retries with WithRetries (WithRetries(0) turns retries off).
//
// The rules, which no policy changes:
//
//   - Only idempotent methods are retried: GET, HEAD, OPTIONS, PUT and
//     DELETE. POST and PATCH (a charge, a usage DELTA, a new organization)
//     are never sent again once any byte of them may have reached the
//     server; they are retried only when the connection could not be made
//     at all. A caller that knows a call is safe to repeat (a usage report
//     with behaviour SET, say) opts in for that call with [Idempotent].
//   - A request is retried on 408, 429, 500, 502, 503 and 504, and on
//     transient network errors (connection refused or reset, a timeout of
//     the connection, the server closing it before answering). Not on a
//     TLS certificate error, a DNS name that does not exist, or when the
//     context is done.
//   - The wait before retry n is random between 0 and
//     min(MaxDelay, BaseDelay·2ⁿ⁻¹) ("full jitter"), or what the server
//     asks for in Retry-After (seconds or an HTTP date). A Retry-After
//     longer than MaxRetryAfter is not waited for: the call returns the
//     response at once, as an *Error whose RetryAfter says when to come back.
//   - The context wins: a wait that would end after the context's deadline
//     is not started (the call returns the last response or error), and
//     cancelling the context ends a wait at once with the context's error.
//     A client's http.Client Timeout bounds all attempts of a call together.
//   - A request body is replayed with http.Request.GetBody, which the
//     generated methods always set; a body that cannot be replayed (an
//     io.Reader passed to a XxxWithBody method that is not a *bytes.Buffer,
//     *bytes.Reader or *strings.Reader) is not retried.
//   - A response whose headers have arrived is not retried when its body
//     then fails (connection reset mid-body, truncated body): the call
//     returns that error.
//
// Each retry is logged at slog.LevelWarn to the WithLogger logger, with the
// operation, method, path template, attempt, wait and the status or error;
// never a header or a key.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts a request may take, the first
	// one included: 1 means no retries. Zero means the default, 3.
	MaxAttempts int
	// BaseDelay is the ceiling of the first wait, doubled for each retry.
	// Zero means the default, 500ms.
	BaseDelay time.Duration
	// MaxDelay caps the ceiling of each wait. Zero means the default, 8s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for. Zero
	// means the default, 60s.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns the policy a client has unless told otherwise:
// 3 attempts (2 retries), waits of up to 0.5s, 1s, … capped at 8s, and
// Retry-After honoured up to 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, BaseDelay: 500 * time.Millisecond, MaxDelay: 8 * time.Second, MaxRetryAfter: 60 * time.Second}
}

// maxRetries caps WithRetries and MaxAttempts: a mistake, not a policy.
const maxRetries = 100

// withDefaults fills the zero fields of p from DefaultRetryPolicy.
func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

type idempotentKey struct{}

// Idempotent returns a request editor that marks one call as safe to send
// more than once, so that it is retried like a GET although its method is
// POST or PATCH. Pass it only for an operation whose repetition does no
// harm, such as a usage report with behaviour SET (a DELTA would count
// twice):
//
//	res, err := client.ReportUsageWithResponse(ctx, body, kelviq.Idempotent())
//
// It has no effect on GET, HEAD, OPTIONS, PUT and DELETE, which are always
// retried, nor when retries are off. It marks this call only, as the
// per-call options do: not a call made with a context derived from its
// request (a middleware's req.Context()).
func Idempotent() api.RequestEditorFn { return markIdempotent }

func markIdempotent(_ context.Context, req *http.Request) error {
	// The value is the call's mark: a call made with a context derived
	// from this one's request is not marked by it.
	*req = *req.WithContext(context.WithValue(req.Context(), idempotentKey{}, callOf(req.Context())))
	return nil
}

// clock is the time the retry transport sees: replaced in tests so that no
// test sleeps for real where it checks a wait.
type clock struct {
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(ceiling time.Duration) time.Duration // uniform in [0, ceiling]
}

func realClock() clock {
	return clock{now: time.Now, sleep: sleepContext, jitter: fullJitter}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func fullJitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// retryTransport is the RoundTripper that retries; it wraps the caller's
// transport (or http.DefaultTransport), through the attempt level of the
// middlewares when there are any, and sits inside the client's
// http.Client, so redirects and the client's Timeout work as usual. It is
// there even when the client's policy makes one attempt, for a call given
// WithCallRetries. It allocates nothing for a request that is not retried.
type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
	logger *slog.Logger // nil: no logging
	ops    *opFinder
	clock  clock
	red    *redactor // the keys, redacted from logged errors
}

// RoundTrip sends req, and again while the policy allows.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	maxAttempts := t.policy.MaxAttempts
	if o := callOptionsOf(req.Context()); o != nil && o.maxAttempts > 0 {
		maxAttempts = o.maxAttempts // WithCallRetries
	}
	resp, err := t.next.RoundTrip(req)
	for attempt := 1; attempt < maxAttempts; attempt++ {
		if !t.retryable(req, resp, err) {
			break
		}
		wait, ok := t.delay(attempt, resp)
		if !ok {
			break
		}
		ctx := req.Context()
		if deadline, has := ctx.Deadline(); has && time.Until(deadline) <= wait {
			break // the deadline would pass during the wait: answer now
		}
		again, rerr := replayable(req)
		if rerr != nil {
			break
		}
		t.log(ctx, req, attempt, wait, resp, err)
		discardBody(resp)
		if serr := t.clock.sleep(ctx, wait); serr != nil {
			if again.Body != nil {
				_ = again.Body.Close()
			}
			return nil, serr
		}
		resp, err = t.next.RoundTrip(again)
	}
	return resp, err
}

// retryable reports whether the outcome of one attempt may be retried.
func (t *retryTransport) retryable(req *http.Request, resp *http.Response, err error) bool {
	if err != nil {
		if req.Context().Err() != nil {
			return false
		}
		if idempotent(req) {
			return transient(err)
		}
		return neverSent(err)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return idempotent(req)
	}
	return false
}

// delay returns the wait before retry number attempt, and false when the
// server asks for a longer wait than the policy accepts.
func (t *retryTransport) delay(attempt int, resp *http.Response) (time.Duration, bool) {
	if resp != nil {
		if v := resp.Header.Get("Retry-After"); v != "" {
			if d, ok := parseRetryAfter(v, t.clock.now()); ok {
				return d, d <= t.policy.MaxRetryAfter
			}
		}
	}
	return t.clock.jitter(backoff(t.policy, attempt)), true
}

// backoff is the ceiling of the wait before retry number attempt (1-based):
// min(MaxDelay, BaseDelay·2^(attempt-1)), without overflow.
func backoff(p RetryPolicy, attempt int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

func (t *retryTransport) log(ctx context.Context, req *http.Request, attempt int, wait time.Duration, resp *http.Response, err error) {
	if t.logger == nil || !t.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	var path string
	if op := t.ops.find(req.Method, req.URL); op != nil {
		attrs = append(attrs, slog.String("operation", op.ID))
		path = op.Path
	} else {
		// Not an operation's path: a hop of a redirect, whose Location
		// the server chose and may have put a key in.
		path = t.red.text(req.URL.EscapedPath(), maxMessage)
	}
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("path", path),
		slog.Int("attempt", attempt),
		slog.Duration("wait", wait),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", t.red.text(err.Error(), maxMessage)))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	t.logger.LogAttrs(ctx, slog.LevelWarn, "kelviq: retrying request", attrs...)
}

// idempotent reports whether req may be sent twice: by its method, or
// because the caller marked the call with Idempotent.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	call, marked := req.Context().Value(idempotentKey{}).(*markedCtx)
	return marked && call == callOf(req.Context())
}

// replayable returns a copy of req to send again, with a fresh body.
func replayable(req *http.Request) (*http.Request, error) {
	again := new(http.Request)
	*again = *req
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, errors.New("kelviq: the request body cannot be replayed")
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		again.Body = body
	}
	return again, nil
}

// neverSent reports an error that proves nothing reached the server: the
// connection could not be made.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transient reports a network error that may pass on a new attempt.
func transient(err error) bool {
	var (
		certErr   *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
		dnsErr    *net.DNSError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalid), errors.As(err, &record):
		return false
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &netErr):
		return true
	}
	return false
}

// maxRetryAfterSeconds bounds a parsed Retry-After (about 31 years), so the
// conversion to a Duration cannot overflow.
const maxRetryAfterSeconds = 1_000_000_000

// parseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): a number of
// seconds, or an HTTP date, relative to now. A date in the past is a wait
// of zero. It reports false for anything else.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		v = strings.TrimLeft(v, "0")
		if v == "" {
			return 0, true
		}
		if len(v) > 10 {
			return maxRetryAfterSeconds * time.Second, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		return time.Duration(min(n, maxRetryAfterSeconds)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}
