package webhook

import (
	"log/slog"
	"time"
)

// DefaultTolerance is how far webhook-timestamp may lie from the current time, in either
// direction, unless [WithTolerance] says otherwise. It is the tolerance of kelviq's own
// examples.
const DefaultTolerance = 5 * time.Minute

// An Option configures [Verify]. Every Option is also a [HandlerOption], so the
// verification settings of a [NewHandler] are given the same way.
type Option interface {
	HandlerOption
	applyVerify(*verifyConfig)
}

// A HandlerOption configures [NewHandler]. Options that only make sense for a handler
// (body limit, duplicate store, logger) are HandlerOptions but not Options.
type HandlerOption interface {
	applyHandler(*handlerConfig)
}

type verifyConfig struct {
	secrets   []string
	tolerance time.Duration
	now       func() time.Time
}

func (c *verifyConfig) apply(opts []Option) {
	for _, o := range opts {
		if o != nil {
			o.applyVerify(c)
		}
	}
}

func (c *verifyConfig) withDefaults(secret string) {
	c.secrets = append([]string{secret}, c.secrets...)
	if c.tolerance <= 0 {
		c.tolerance = DefaultTolerance
	}
	if c.now == nil {
		c.now = time.Now
	}
}

type verifyOption func(*verifyConfig)

func (o verifyOption) applyVerify(c *verifyConfig)   { o(c) }
func (o verifyOption) applyHandler(c *handlerConfig) { o(&c.verify) }

type handlerOption func(*handlerConfig)

func (o handlerOption) applyHandler(c *handlerConfig) { o(c) }

// WithSecrets adds secrets that are accepted besides the one passed to [Verify] or
// [NewHandler]. Use it while rotating an endpoint secret: a delivery signed with any of
// the secrets verifies. Empty strings are ignored. Given several times, the secrets add up.
func WithSecrets(secrets ...string) Option {
	secrets = append([]string(nil), secrets...)
	return verifyOption(func(c *verifyConfig) { c.secrets = append(c.secrets, secrets...) })
}

// WithTolerance sets how far webhook-timestamp may lie from the current time, in either
// direction, before a delivery is rejected with [ErrTimestampTooOld] or
// [ErrTimestampTooNew]. A timestamp exactly d away is still accepted. Zero or a negative
// d means [DefaultTolerance]; the check cannot be turned off.
func WithTolerance(d time.Duration) Option {
	return verifyOption(func(c *verifyConfig) { c.tolerance = d })
}

// WithNow sets the clock that timestamps are checked against (and, for a handler, the
// clock of its default duplicate store). It exists for tests; nil means [time.Now].
func WithNow(now func() time.Time) Option {
	return verifyOption(func(c *verifyConfig) { c.now = now })
}

// DefaultMaxBodyBytes is the largest body a [NewHandler] reads unless
// [WithMaxBodyBytes] says otherwise: 1 MiB, far above any documented kelviq event.
const DefaultMaxBodyBytes int64 = 1 << 20

// WithMaxBodyBytes sets the largest request body a handler reads. A longer body is
// answered 413 without being read further and without calling the callback. Zero or a
// negative n means [DefaultMaxBodyBytes].
func WithMaxBodyBytes(n int64) HandlerOption {
	return handlerOption(func(c *handlerConfig) { c.maxBody = n })
}

// WithStore sets where a handler remembers the webhook-ids it has processed, to drop
// repeated deliveries. The default is a [MemoryStore] private to the handler; use a
// shared Store (a database, a cache) when several processes receive the same endpoint.
// A nil s turns duplicate detection off: every verified delivery reaches the callback.
func WithStore(s Store) HandlerOption {
	return handlerOption(func(c *handlerConfig) { c.store = s; c.storeSet = true })
}

// WithDedupeWindow sets how long a handler remembers a processed webhook-id. The default
// is twice the tolerance (10 minutes by default): the longest time during which any signed
// copy of a delivery can still pass the timestamp check, so a replay is always caught.
// kelviq re-signs retries with a fresh timestamp and the same webhook-id, possibly hours
// later; set a longer window (and a persistent [Store]) to catch those too. Zero or a
// negative d means the default.
func WithDedupeWindow(d time.Duration) HandlerOption {
	return handlerOption(func(c *handlerConfig) { c.window = d })
}

// WithLogger makes a handler log each rejected delivery (at level Warn) and each failed
// callback (at level Error), with the webhook-id, the HTTP status and the error. It never
// logs the body or a secret. The default is no logging.
func WithLogger(l *slog.Logger) HandlerOption {
	return handlerOption(func(c *handlerConfig) { c.logger = l })
}
