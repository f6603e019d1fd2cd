package kelviq

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// ErrInvalidCallOption is wrapped by the error of a call given a per-call
// option it cannot take (WithCallTimeout, WithCallRetries,
// WithCallHeader). Nothing was sent.
var ErrInvalidCallOption = errors.New("kelviq: invalid call option")

// callOptions are the per-call overrides of one call, in its request
// context. A value is never modified once in a context: each option copies
// it, so a context shared with another call cannot change that call.
type callOptions struct {
	timeout     time.Duration // 0: the client's
	maxAttempts int           // 0: the client's
	call        *markedCtx    // the call they were given to
}

type callOptionsKey struct{}

// callOptionsOf returns the options of the call ctx belongs to: not those
// of another call whose request context ctx was derived from (a
// middleware calling the client with req.Context()).
func callOptionsOf(ctx context.Context) *callOptions {
	o, _ := ctx.Value(callOptionsKey{}).(*callOptions)
	if o == nil || o.call != callOf(ctx) {
		return nil
	}
	return o
}

// setCallOption puts a copy of req's call options, changed by set, in its
// context.
func setCallOption(req *http.Request, set func(*callOptions)) {
	var o callOptions
	if old := callOptionsOf(req.Context()); old != nil {
		o = *old
	}
	o.call = callOf(req.Context())
	set(&o)
	*req = *req.WithContext(context.WithValue(req.Context(), callOptionsKey{}, &o))
}

// WithCallTimeout bounds this call, all its attempts and reading its body
// included, to d instead of the client's timeout (DefaultTimeout, or
// WithHTTPClient's Timeout), longer or shorter; the context's deadline
// applies as well. Other calls keep the client's. Pass it as a request
// editor:
//
//	res, err := client.GetCustomerWithResponse(ctx, id, kelviq.WithCallTimeout(2*time.Second))
//
// d must be positive: anything else fails the call, with nothing sent.
func WithCallTimeout(d time.Duration) api.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if d <= 0 {
			return fmt.Errorf("%w: kelviq.WithCallTimeout(%v): the timeout must be positive", ErrInvalidCallOption, d)
		}
		setCallOption(req, func(o *callOptions) { o.timeout = d })
		return nil
	}
}

// WithCallRetries lets this call be retried up to n times (n+1 attempts)
// instead of the client's WithRetries; 0 turns retries off for it. The
// rest of the client's RetryPolicy (waits, what is retried: idempotent
// requests only, unless marked with Idempotent) stays. Other calls keep the
// client's. n must be between 0 and 100: anything else fails the call,
// with nothing sent.
func WithCallRetries(n int) api.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if n < 0 || n > maxRetries {
			return fmt.Errorf("%w: kelviq.WithCallRetries(%d): want 0 to %d retries", ErrInvalidCallOption, n, maxRetries)
		}
		setCallOption(req, func(o *callOptions) { o.maxAttempts = n + 1 })
		return nil
	}
}

// clientSetHeaders are headers the client sets itself on every request: a
// per-call header may not replace them.
var clientSetHeaders = append(slices.Clone(credentialHeaders), "Host", "User-Agent", "Content-Length", "Transfer-Encoding")

// WithCallHeader sets header name to value on this call's requests (a later
// one of the same name replaces it). It refuses, failing the call with
// nothing sent, the headers the client sets itself: the credential headers
// (Authorization, X-Kelviq-Partner-Key: the client sends exactly the key
// each operation names, nothing else), Host (the operation's host is the
// router's), User-Agent (see WithUserAgent), Content-Length and
// Transfer-Encoding, in any case and with underscores for dashes (many
// servers read X_Kelviq_Partner_Key as X-Kelviq-Partner-Key); and a name
// that is not an HTTP token or a value with a control character.
func WithCallHeader(name, value string) api.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if !validHeaderName(name) {
			return fmt.Errorf("%w: kelviq.WithCallHeader(%q, …): not a valid header name", ErrInvalidCallOption, clean(name, 64))
		}
		canonical := http.CanonicalHeaderKey(name)
		// Many servers (CGI and WSGI: Django, PHP; some proxies) read
		// X_Kelviq_Partner_Key as X-Kelviq-Partner-Key: compared with
		// the underscores as dashes, or the spelling would be a way
		// around the refusal.
		if reserved := http.CanonicalHeaderKey(strings.ReplaceAll(name, "_", "-")); slices.Contains(clientSetHeaders, reserved) {
			canonical = reserved
			why := "the client sets it itself"
			if slices.Contains(credentialHeaders, canonical) {
				why = "it carries a credential, which the client sets for each operation (kelviq.WithServerKey, kelviq.WithPartnerKey)"
			}
			return fmt.Errorf("%w: kelviq.WithCallHeader(%q, …): %s: %s", ErrInvalidCallOption, canonical, "refused", why)
		}
		if strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			// The value is not quoted: it may be a secret of the caller's.
			return fmt.Errorf("%w: kelviq.WithCallHeader(%q, …): the value has a control character", ErrInvalidCallOption, canonical)
		}
		req.Header.Set(canonical, value)
		return nil
	}
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
