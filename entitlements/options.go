package entitlements

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	// DefaultTTL is how long an answer is fresh: kelviq's SDKs' default.
	DefaultTTL = 60 * time.Second
	// DefaultMaxStale bounds the age of a last known value served while
	// kelviq is unreachable.
	DefaultMaxStale = 24 * time.Hour
	// DefaultMaxCustomers bounds the customers kept in memory.
	DefaultMaxCustomers = 100_000
	// DefaultFetchTimeout bounds one fetch from the shared store and kelviq.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultStoreTimeout bounds one read or write of the shared store.
	DefaultStoreTimeout = 50 * time.Millisecond
)

// Option configures a Checker.
type Option func(*config)

type config struct {
	ttl          time.Duration
	maxStale     time.Duration
	maxStaleFor  map[string]time.Duration
	maxCustomers int
	store        Store
	logger       *slog.Logger
	refreshAhead time.Duration
	fetchTimeout time.Duration
	storeTimeout time.Duration
	errs         []error // option errors, reported by New
	now          func() time.Time
}

// WithTTL sets how long an answer of kelviq is fresh (default DefaultTTL,
// 60 s): within it, checks are answered from memory or the shared store
// without a call. It must be positive.
func WithTTL(d time.Duration) Option {
	if d <= 0 {
		return invalid("WithTTL(%v): the TTL must be positive", d)
	}
	return func(c *config) { c.ttl = d }
}

// WithMaxCustomers bounds the customers kept in memory (default
// DefaultMaxCustomers, 100,000); the least recently checked are evicted
// first. It bounds memory, not just entries: what customers share (their
// interned access sets) is bounded in bytes too, so an evicted customer's
// answer is freed however large its feature IDs were. It must be at least
// 1.
func WithMaxCustomers(n int) Option {
	if n < 1 {
		return invalid("WithMaxCustomers(%d): must be at least 1", n)
	}
	return func(c *config) { c.maxCustomers = n }
}

// WithMaxStale sets how old a last known value may be and still be served,
// marked Stale, when kelviq is unreachable (a network error, a timeout, a
// 429 or a 5xx). The default is DefaultMaxStale, 24 h; 0 never serves a
// stale value. Choose it by the risk of the feature: past it, a check is
// denied with an error wrapping ErrUnavailable. It must not be negative.
func WithMaxStale(d time.Duration) Option {
	if d < 0 {
		return invalid("WithMaxStale(%v): must not be negative", d)
	}
	return func(c *config) { c.maxStale = d }
}

// WithMaxStaleFor overrides WithMaxStale for one feature: 0 never serves
// that feature stale (a paid export, say), a longer bound keeps a harmless
// one available through a long outage. It may be given once per feature:
// New refuses a second bound for the same feature rather than let one part
// of a configuration silently loosen another's.
func WithMaxStaleFor(featureID string, d time.Duration) Option {
	switch {
	case featureID == "":
		return invalid("WithMaxStaleFor(%q, %v): the feature ID is empty", featureID, d)
	case d < 0:
		return invalid("WithMaxStaleFor(%q, %v): must not be negative", featureID, d)
	}
	return func(c *config) {
		if c.maxStaleFor == nil {
			c.maxStaleFor = make(map[string]time.Duration)
		}
		if prev, dup := c.maxStaleFor[featureID]; dup {
			c.errs = append(c.errs, fmt.Errorf("WithMaxStaleFor(%q, %v): the feature already has a bound (%v)", featureID, d, prev))
			return
		}
		c.maxStaleFor[featureID] = d
	}
}

// WithStore adds a cache level shared by every instance of the app, such as
// Redis (package redisstore): reads go memory, then s, then kelviq, and an
// answer of kelviq is saved to both. Records live in s as long as the
// longest max-stale bound (at least the TTL). When s fails, checks go on
// with memory and kelviq; the failure is logged once per outage.
func WithStore(s Store) Option {
	return func(c *config) { c.store = s }
}

// WithLogger logs to l: the start and end of an outage of kelviq or of the
// store (once each, not per check), and webhook deliveries that name no
// customer. Logs never contain a key. nil (the default) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithRefreshAhead refreshes a customer in the background when it is checked
// within d of the end of its TTL, so that a customer checked continually
// never waits on kelviq. A customer not checked in that window expires as
// usual. 0 (the default) turns it off; d must be less than the TTL.
func WithRefreshAhead(d time.Duration) Option {
	if d < 0 {
		return invalid("WithRefreshAhead(%v): must not be negative", d)
	}
	return func(c *config) { c.refreshAhead = d }
}

// WithFetchTimeout bounds one fetch of a customer, shared store and kelviq
// together (default DefaultFetchTimeout, 10 s). A check waits at most until
// its own context ends: the fetch goes on for the checks that come after.
func WithFetchTimeout(d time.Duration) Option {
	if d <= 0 {
		return invalid("WithFetchTimeout(%v): must be positive", d)
	}
	return func(c *config) { c.fetchTimeout = d }
}

// WithStoreTimeout bounds one read or one write of the shared store
// (default DefaultStoreTimeout, 50 ms), apart from WithFetchTimeout: a
// store that is slow, hung (a Redis stopped, a network that drops packets)
// or that does not honour its context (go-redis's defaults wait for their
// own 3 s ReadTimeout, and retry) costs a check at most d, then the check
// goes on to kelviq as if the store had missed, and the store is left alone
// for a second. The operation itself is left to finish in the background
// (at most 64 at once; past that, the store is skipped). d must be
// positive.
func WithStoreTimeout(d time.Duration) Option {
	if d <= 0 {
		return invalid("WithStoreTimeout(%v): must be positive", d)
	}
	return func(c *config) { c.storeTimeout = d }
}

// invalid is an option that was given a bad value: New reports it.
func invalid(format string, args ...any) Option {
	err := fmt.Errorf(format, args...)
	return func(c *config) { c.errs = append(c.errs, err) }
}

// maxStaleOf is the max-stale bound of a feature.
func (c *config) maxStaleOf(featureID string) time.Duration {
	if d, ok := c.maxStaleFor[featureID]; ok {
		return d
	}
	return c.maxStale
}

// storeTTL is how long a record lives in the shared store: as long as any
// feature may be served from it, and at least as long as it is fresh.
func (c *config) storeTTL() time.Duration {
	d := max(c.ttl, c.maxStale)
	for _, v := range c.maxStaleFor {
		d = max(d, v)
	}
	return d
}
