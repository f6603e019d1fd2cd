package specdrift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"time"
)

// FetchOptions control HTTP fetching. The zero value is usable.
type FetchOptions struct {
	// Client is the HTTP client (default: a new http.Client; its own Timeout,
	// if any, applies on top of Timeout below).
	Client *http.Client
	// Timeout bounds each request attempt, body included (default 20s).
	Timeout time.Duration
	// Retries is the number of extra attempts after a 5xx or 429 answer, a
	// timeout or a network error (default 2; a negative value means none).
	// Other 4xx answers are not retried.
	Retries int
	// Backoff is the wait before the first retry, doubled for each further
	// one (default 500ms).
	Backoff time.Duration
	// MaxBytes caps a response body (default 32 MiB).
	MaxBytes int64
	// UserAgent is sent with every request (default "kelviq-specdrift").
	UserAgent string
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 32 << 20
	}
	if o.UserAgent == "" {
		o.UserAgent = "kelviq-specdrift"
	}
	return o
}

// FetchError reports a URL that could not be fetched.
type FetchError struct {
	// URL is what was requested.
	URL string
	// Status is the last HTTP status received, 0 when none was.
	Status int
	// Attempts is the number of requests made.
	Attempts int
	// Err is the cause.
	Err error
}

// Error names the URL and the cause.
func (e *FetchError) Error() string {
	tries := ""
	if e.Attempts > 1 {
		tries = fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return fmt.Sprintf("GET %s: %v%s", e.URL, e.Err, tries)
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// errHTTPStatus is the cause of a FetchError for a non-2xx answer.
type errHTTPStatus struct{ code int }

func (e errHTTPStatus) Error() string {
	if t := http.StatusText(e.code); t != "" {
		return fmt.Sprintf("HTTP %d %s", e.code, t)
	}
	return fmt.Sprintf("HTTP %d", e.code)
}

// fetcher performs GETs with a per-attempt timeout and retries.
type fetcher struct {
	opt FetchOptions
}

func newFetcher(opt FetchOptions) *fetcher { return &fetcher{opt: opt.withDefaults()} }

// ErrOffHostRedirect is the cause of a FetchError for a redirect off the
// docs host, which the docs mode refuses (and does not retry): the index
// and its pages come from the site the caller named, or not at all.
var ErrOffHostRedirect = errors.New("redirect off the docs host refused")

// confineTo makes f follow redirects only to base's host (same port) with
// the same scheme or an upgrade to https. The caller's client is copied,
// not changed; its own redirect policy still applies on the host.
func (f *fetcher) confineTo(base *neturl.URL) *fetcher {
	c := *f.opt.Client
	own := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameSite(base, req.URL) {
			return fmt.Errorf("%w: %s redirected to %s, not on %s", ErrOffHostRedirect,
				via[len(via)-1].URL.Redacted(), req.URL.Redacted(), base.Host)
		}
		if own != nil {
			return own(req, via)
		}
		if len(via) >= 10 {
			return errRedirectLoop
		}
		return nil
	}
	f.opt.Client = &c
	return f
}

// sameSite reports whether u is on base's host and port, with base's scheme
// or https.
func sameSite(base, u *neturl.URL) bool {
	if !strings.EqualFold(u.Hostname(), base.Hostname()) {
		return false
	}
	if u.Scheme != base.Scheme && u.Scheme != "https" {
		return false
	}
	return effectivePort(u) == effectivePort(base) || (u.Port() == "" && u.Scheme == "https" && base.Scheme == "http" && base.Port() == "")
}

func effectivePort(u *neturl.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// Fetch GETs url with the options' timeout, retries and size cap and returns
// the body of a 2xx answer. Errors are *FetchError.
func Fetch(ctx context.Context, url string, opt FetchOptions) ([]byte, error) {
	return newFetcher(opt).get(ctx, url)
}

func (f *fetcher) get(ctx context.Context, url string) ([]byte, error) {
	fe := &FetchError{URL: url}
	wait := f.opt.Backoff
	for {
		fe.Attempts++
		body, status, err := f.once(ctx, url)
		if err == nil {
			return body, nil
		}
		fe.Status, fe.Err = status, err
		if ctx.Err() != nil {
			fe.Err = contextCause(ctx, err)
			return nil, fe
		}
		if !retryable(status, err) || fe.Attempts > f.opt.Retries {
			return nil, fe
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			fe.Err = contextCause(ctx, err)
			return nil, fe
		case <-t.C:
		}
		wait *= 2
	}
}

// once makes one attempt.
func (f *fetcher) once(ctx context.Context, url string) ([]byte, int, error) {
	actx, cancel := context.WithTimeout(ctx, f.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("bad URL: %w", err)
	}
	req.Header.Set("User-Agent", f.opt.UserAgent)
	req.Header.Set("Accept", "text/markdown, text/plain, application/json, application/yaml, */*;q=0.5")
	resp, err := f.opt.Client.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.Is(err, ErrOffHostRedirect) && errors.As(err, &ue) {
			return nil, 0, ue.Err // the redirect's own message names both URLs
		}
		return nil, 0, attemptCause(ctx, actx, err, f.opt.Timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, resp.StatusCode, errHTTPStatus{resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opt.MaxBytes+1))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("reading the body: %w", attemptCause(ctx, actx, err, f.opt.Timeout))
	}
	if int64(len(body)) > f.opt.MaxBytes {
		return nil, resp.StatusCode, fmt.Errorf("%w %d bytes", errBodyTooLarge, f.opt.MaxBytes)
	}
	return body, resp.StatusCode, nil
}

// errBodyTooLarge and errRedirectLoop are answers a retry would get again:
// a body over the cap (endless, a gzip bomb once decoded, or just large)
// and a chain of redirects on the docs host that does not end.
var (
	errBodyTooLarge = errors.New("body larger than")
	errRedirectLoop = errors.New("stopped after 10 redirects")
)

// errTimeout marks a per-request timeout.
var errTimeout = errors.New("timed out")

// attemptCause turns an attempt's error into a readable cause: a per-request
// timeout says so with its duration.
func attemptCause(parent, attempt context.Context, err error, timeout time.Duration) error {
	if parent.Err() == nil && errors.Is(attempt.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s (per-request timeout)", errTimeout, timeout)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && parent.Err() == nil {
		return fmt.Errorf("%w: %v", errTimeout, err)
	}
	return err
}

// contextCause describes why the overall context ended.
func contextCause(ctx context.Context, last error) error {
	what := "canceled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		what = "overall deadline exceeded"
	}
	if last != nil && !errors.Is(last, context.Canceled) && !errors.Is(last, context.DeadlineExceeded) &&
		!strings.Contains(last.Error(), "context deadline exceeded") && !strings.Contains(last.Error(), "context canceled") {
		return fmt.Errorf("%s (last error: %v)", what, last)
	}
	return errors.New(what)
}

func retryable(status int, err error) bool {
	if errors.Is(err, ErrOffHostRedirect) || errors.Is(err, errRedirectLoop) || errors.Is(err, errBodyTooLarge) {
		return false // the site will answer the same way again
	}
	if status >= 500 || status == http.StatusTooManyRequests {
		return true
	}
	if status >= 200 && status <= 299 {
		return true // the body could not be read
	}
	if status != 0 {
		return false // other HTTP answers (404, 403 …) will not change
	}
	return err != nil // timeouts and network errors
}
