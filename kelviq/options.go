package kelviq

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Client. Options are applied in order; a later option
// of the same kind replaces an earlier one. Options given explicitly always
// win over what FromEnv reads, wherever FromEnv stands in the list.
type Option func(*config)

// ErrInvalidConfig is wrapped by every error NewClient returns for bad
// configuration. The error text names the option or environment variable
// at fault and never contains a key.
var ErrInvalidConfig = errors.New("kelviq: invalid configuration")

// setting is an option value that records whether it was given.
type setting[T any] struct {
	value T
	set   bool
}

func (s *setting[T]) put(v T) { s.value, s.set = v, true }

// config is what the options build; NewClient checks and resolves it.
type config struct {
	serverKey   setting[string]
	partnerKey  setting[string]
	environment setting[Environment]
	baseURL     setting[string]
	edgeURL     setting[string]
	httpClient  setting[*http.Client]
	userAgent   setting[string]
	fromEnv     bool
	getenv      func(string) string

	retries     setting[int]
	retryPolicy setting[RetryPolicy]
	logger      setting[*slog.Logger]
	maxBody     setting[int64]
	maxPages    setting[int]

	middlewares   []Middleware // WithMiddleware, in order
	nilMiddleware bool         // WithMiddleware(nil) was given

	// The retry transport's clock, replaced by tests; nil: the real one.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(ceiling time.Duration) time.Duration
}

// WithServerKey sets the server API key, sent as "Authorization: Bearer …"
// to every operation whose security is bearerAuth (all but the partner API
// and the plan-file download). Keys belong to one environment: use a sandbox
// key with WithEnvironment(Sandbox).
func WithServerKey(key string) Option {
	return func(c *config) { c.serverKey.put(key) }
}

// WithPartnerKey sets the partner key ("kvqp_…"), sent in the
// X-Kelviq-Partner-Key header to the partner operations
// (/partner/organizations…) and to nothing else.
func WithPartnerKey(key string) Option {
	return func(c *config) { c.partnerKey.put(key) }
}

// WithEnvironment selects Production (the default) or Sandbox. Every
// operation then goes to its own host in that environment, as the spec's
// servers say: the core API or, for entitlements and promotions, the edge API.
func WithEnvironment(env Environment) Option {
	return func(c *config) { c.environment.put(env) }
}

// WithBaseURL sends every operation, edge ones included, to baseURL instead
// of kelviq's hosts: for proxies, recorders and fake servers such as
// kelviqtest. The operation's path is appended to it (baseURL
// "http://127.0.0.1:8080" → "http://127.0.0.1:8080/customers/"). It must be
// https, or http on a loopback host.
func WithBaseURL(baseURL string) Option {
	return func(c *config) { c.baseURL.put(baseURL) }
}

// WithEdgeURL sends the edge operations (entitlements, promotions) to edgeURL
// instead of WithBaseURL's URL or kelviq's edge host. It is what
// KELVIQ_EDGE_URL sets through FromEnv.
func WithEdgeURL(edgeURL string) Option {
	return func(c *config) { c.edgeURL.put(edgeURL) }
}

// WithHTTPClient makes the client send its requests through hc. hc itself is
// never modified: the client copies it and wraps its Transport, so the
// caller's transport, timeout, jar and redirect policy stay in the chain.
// Without WithHTTPClient, or with a nil Transport, the clients of a process
// share one clone of http.DefaultTransport that keeps up to 64 idle
// connections per host instead of net/http's 2, so that concurrent calls
// keep their connections instead of opening one a call.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient.put(hc) }
}

// WithUserAgent appends ua to the User-Agent the client sends
// ("kelviq-go/<version> go<version> <ua>"), to identify your integration.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent.put(ua) }
}

// FromEnv reads the configuration from the environment, with the variable
// names kelviq's own CLI uses, when NewClient runs. Nothing is read unless
// this option is given. Unset or empty variables are ignored, and options
// given explicitly win over variables.
//
//	KELVIQ_ENV                     production or sandbox
//	KELVIQ_SERVER_API_KEY          server key for production
//	KELVIQ_SANDBOX_SERVER_API_KEY  server key for the sandbox
//	KELVIQ_PARTNER_KEY             partner key (kvqp_…)
//	KELVIQ_BASE_URL                as WithBaseURL
//	KELVIQ_EDGE_URL                as WithEdgeURL
//
// Without KELVIQ_ENV the environment is production when
// KELVIQ_SERVER_API_KEY is set, else sandbox when only
// KELVIQ_SANDBOX_SERVER_API_KEY is. The server key is the one of the chosen
// environment: a production key is never sent to the sandbox or back.
func FromEnv() Option {
	return func(c *config) { c.fromEnv = true }
}

// WithRetries sets how many times a failed request may be retried (the
// number of attempts is n+1); 0 turns retries off. The other settings of the
// retry policy stay as they are (DefaultRetryPolicy, or WithRetryPolicy's,
// whichever order the options come in). The default is 2. See RetryPolicy
// for what is retried: idempotent requests only, unless a call is marked
// with Idempotent.
func WithRetries(n int) Option {
	return func(c *config) { c.retries.put(n) }
}

// WithRetryPolicy sets the retry policy; zero fields take their values from
// DefaultRetryPolicy. MaxAttempts 1 turns retries off. WithRetries, given
// too, sets MaxAttempts.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) { c.retryPolicy.put(p) }
}

// WithLogger makes the client log each retry to l at slog.LevelWarn: the
// operation, method, path template, attempt, wait, and the status or the
// network error. Logs never hold a header, a body or a key. nil (the
// default) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger.put(l) }
}

// WithMaxResponseBytes caps the size of a response body the client reads
// (default DefaultMaxResponseBytes, 16 MiB). A larger body fails the call
// with an error wrapping ErrResponseTooLarge instead of filling memory.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) { c.maxBody.put(n) }
}

// WithMaxPages caps the pages one walk of an iterator (ListCustomersIter …)
// fetches (default DefaultMaxPages, 10,000). A walk that reaches it ends
// with an error wrapping ErrPaginationLoop: whatever a server answers, an
// iterator ends.
func WithMaxPages(n int) Option {
	return func(c *config) { c.maxPages.put(n) }
}
