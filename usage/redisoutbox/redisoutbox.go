package redisoutbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/usage"
)

// Outbox is a usage.Outbox in Redis, shared by every Reporter on its
// prefix. Make it with New; it is safe for concurrent use.
type Outbox struct {
	rdb    redis.UniversalClient
	prefix string
	base   string   // "{" + prefix + "}:1": every key's hash tag and the format
	keys   []string // the scripts' KEYS (see scripts.go)
	cfg    config

	instance string // this Outbox's part of lease tokens
	claims   atomic.Uint64
}

// Default settings.
const (
	// DefaultLeaseTTL is how long a claimed pair stays leased by a
	// Reporter that neither ends its lease nor lives (WithLeaseTTL).
	DefaultLeaseTTL = 30 * time.Second
	// DefaultPollInterval is how often a Reporter looks for what other
	// processes stored or left (WithPollInterval).
	DefaultPollInterval = time.Second
)

// config is what the options build.
type config struct {
	leaseTTL, poll time.Duration
	require        string // WithRequiredPersistence's fsync, "" for none
	errs           []error
}

// Option configures an Outbox.
type Option func(*config)

// WithLeaseTTL sets how long a claimed pair is leased: no other Reporter
// sends it until its lease ends, and a Reporter that dies (SIGKILL, its pod
// gone) holds it that long before another takes its reports over. A
// Reporter ends its request before its lease expires, so a shorter lease
// bounds its requests too. Between 100 ms and 1 h; 30 s by default.
func WithLeaseTTL(d time.Duration) Option {
	return func(c *config) {
		if d < 100*time.Millisecond || d > time.Hour {
			c.errs = append(c.errs, fmt.Errorf("redisoutbox: WithLeaseTTL(%v): want between 100ms and 1h", d))
			return
		}
		c.leaseTTL = d
	}
}

// WithPollInterval sets how often, at the longest, a Reporter on the
// outbox looks for work it was not woken for: reports other processes
// stored, and pairs whose lease expired because their Reporter died.
// Between 10 ms and 1 min; 1 s by default.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d < 10*time.Millisecond || d > time.Minute {
			c.errs = append(c.errs, fmt.Errorf("redisoutbox: WithPollInterval(%v): want between 10ms and 1m", d))
			return
		}
		c.poll = d
	}
}

// WithRequiredPersistence makes New check the server's persistence with
// CONFIG GET and fail unless it keeps what it acknowledged: appendonly
// yes, appendfsync fsync ("always", or "everysec", which accepts losing up
// to about a second on a crash of the Redis host; "always" accepts only
// "always"), and maxmemory-policy noeviction (any other policy may evict
// queued reports when Redis is full). A server that refuses CONFIG (many
// managed services do) fails the check too: check those by their console.
func WithRequiredPersistence(fsync string) Option {
	return func(c *config) {
		if fsync != "always" && fsync != "everysec" {
			c.errs = append(c.errs, fmt.Errorf("redisoutbox: WithRequiredPersistence(%q): want \"always\" or \"everysec\"", fsync))
			return
		}
		c.require = fsync
	}
}

// New returns the outbox on rdb under prefix (for example
// "myapp:usage:"). Every Reporter, in any process, given an Outbox on the
// same Redis and prefix shares its reports. New talks to Redis only with
// WithRequiredPersistence; it does not close rdb, ever.
//
// The prefix must not hold '{' or '}': it is the keys' Cluster hash tag.
func New(rdb redis.UniversalClient, prefix string, opts ...Option) (*Outbox, error) {
	if rdb == nil {
		return nil, errors.New("redisoutbox: New needs a Redis client, got nil")
	}
	switch {
	case prefix == "":
		return nil, errors.New("redisoutbox: the prefix is empty")
	case strings.ContainsAny(prefix, "{}"):
		return nil, fmt.Errorf("redisoutbox: the prefix %q holds '{' or '}': it is put inside the keys' hash tag", prefix)
	case len(prefix) > 512 || !utf8.ValidString(prefix):
		return nil, fmt.Errorf("redisoutbox: the prefix must be valid UTF-8 of at most 512 bytes")
	}
	cfg := config{leaseTTL: DefaultLeaseTTL, poll: DefaultPollInterval}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	// The tag, then the format's version: a later, incompatible format
	// would use other keys instead of misreading these.
	base := "{" + prefix + "}:1"
	o := &Outbox{
		rdb: rdb, prefix: prefix, base: base, cfg: cfg,
		keys:     []string{base + ":seq", base + ":n", base + ":due", base + ":old", base + ":dz", base + ":dh"},
		instance: hex.EncodeToString(id[:]),
	}
	if cfg.require != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, err := o.Persistence(ctx)
		if err != nil {
			return nil, fmt.Errorf("redisoutbox: WithRequiredPersistence: %w", err)
		}
		if err := p.check(cfg.require); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Prefix returns the outbox's prefix.
func (o *Outbox) Prefix() string { return o.prefix }

// unavailable wraps a Redis failure: usage.ErrUnavailable, naming Redis
// and the operation.
func (o *Outbox) unavailable(op string, err error) error {
	return fmt.Errorf("redisoutbox: %s on Redis (prefix %q): %w: %w", op, o.prefix, usage.ErrUnavailable, err)
}

// Close does nothing: the outbox holds nothing but rdb, which it does not
// close.
func (o *Outbox) Close() error { return nil }

var _ usage.Outbox = (*Outbox)(nil)
