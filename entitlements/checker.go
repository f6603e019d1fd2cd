package entitlements

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kelviq/kelviq-go/kelviq"
)

// Checker answers whether customers have access to features, from kelviq's
// getCustomerEntitlements, through a per-process cache and an optional
// shared Store. It is safe for concurrent use: make one per kelviq client
// and share it.
type Checker struct {
	client *kelviq.Client
	env    string
	cfg    config
	mem    *memory
	failed failures // customers with nothing known whose fetch failed
	store  *storeLevel
	api    outage
	group  singleflight.Group
	// storeReads are the store reads of customers in a failure's pause
	// (storeDuringPause), by customer.
	storeReads singleflight.Group
	stats      counters

	// flights are the fetches in progress, by customer, so that Invalidate
	// can stop one from caching an answer it got before the invalidation.
	// A customer can have more than one: Invalidate forgets the shared
	// fetch, and the next check starts another while the first runs.
	flightsMu sync.Mutex
	flights   map[string]map[*flight]struct{}
	// saves are the store writes of fetched answers still running, by
	// customer: one may outlast its fetch (past the store's budget), and
	// Invalidate flags it so that it deletes what it wrote.
	saves map[string]map[*flight]struct{}

	realClock  bool // cfg.now is time.Now (tests replace it)
	accessSets accessSets
}

// flight is one fetch in progress; invalidated is guarded by flightsMu.
type flight struct{ invalidated bool }

// New returns a Checker that calls kelviq with client (its environment, keys
// and retries). Without options: answers are fresh for 60 s, the last known
// value stands in for 24 h when kelviq is unreachable, at most 100,000
// customers are kept in memory, and there is no shared store. An error
// names the option at fault.
func New(client *kelviq.Client, opts ...Option) (*Checker, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: New was given a nil *kelviq.Client", errInvalidArgument)
	}
	cfg := config{
		ttl:          DefaultTTL,
		maxStale:     DefaultMaxStale,
		maxCustomers: DefaultMaxCustomers,
		fetchTimeout: DefaultFetchTimeout,
		storeTimeout: DefaultStoreTimeout,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.refreshAhead >= cfg.ttl {
		cfg.errs = append(cfg.errs, fmt.Errorf("WithRefreshAhead(%v): must be less than the TTL (%v)", cfg.refreshAhead, cfg.ttl))
	}
	if len(cfg.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", errInvalidArgument, errors.Join(cfg.errs...))
	}
	realClock := cfg.now == nil
	if realClock {
		cfg.now = time.Now
	}
	mem, err := newMemory(cfg.maxCustomers)
	if err != nil {
		return nil, fmt.Errorf("%w: WithMaxCustomers(%d): %w", errInvalidArgument, cfg.maxCustomers, err)
	}
	failed, err := newFailures(cfg.maxCustomers)
	if err != nil {
		return nil, fmt.Errorf("%w: WithMaxCustomers(%d): %w", errInvalidArgument, cfg.maxCustomers, err)
	}
	c := &Checker{
		client:    client,
		env:       client.Environment().String(),
		cfg:       cfg,
		mem:       mem,
		failed:    failed,
		flights:   make(map[string]map[*flight]struct{}),
		saves:     make(map[string]map[*flight]struct{}),
		realClock: realClock,
	}
	c.store = newStoreLevel(cfg.store, cfg.storeTimeout, cfg.now, cfg.logger)
	c.api = outage{what: "kelviq's entitlements API", logger: cfg.logger}
	return c, nil
}

// HasAccess reports whether the customer has access to the feature.
//
// A feature the customer has no entitlement for gives (false, nil). When
// kelviq cannot be reached, the last known answer is given while it is
// younger than the feature's max-stale bound; past it, or when there is
// none, HasAccess gives false and an error wrapping ErrUnavailable. A 4xx
// answer of kelviq (the customer does not exist, a wrong key) gives false
// and that error (a *kelviq.Error): it is never hidden behind a cached
// value. A check whose ctx its caller cancels gives false and an error
// wrapping context.Canceled (not ErrUnavailable), never a stale value. A
// feature whose entries in kelviq's answer cannot be read (a count of
// 10.5) gives false and an error wrapping kelviq.ErrUnexpectedResponse; the
// customer's other features are answered. Only (false, nil) says that the
// customer's plan lacks the feature.
//
// Answered from memory, it takes well under a microsecond and allocates
// nothing (see BENCHMARKS.md).
func (c *Checker) HasAccess(ctx context.Context, customerID, featureID string) (bool, error) {
	if customerID != "" && featureID != "" {
		if s := c.mem.peek(customerID); s != nil {
			if age := c.age(s); age < c.cfg.ttl {
				c.mem.touch(customerID, s, age)
				if c.cfg.refreshAhead > 0 && age >= c.cfg.ttl-c.cfg.refreshAhead {
					c.startRefresh(customerID, s)
				}
				if s.access[featureID] {
					c.stats.hits.Add(1)
					return true, nil
				}
				if s.broken == nil || s.broken[featureID] == nil {
					c.stats.hits.Add(1)
					c.stats.denied.Add(1)
					return false, nil
				}
				// kelviq's entry for the feature could not be read: not
				// an answer (see entitlement).
			}
		}
	}
	e, _, err := c.entitlement(ctx, customerID, featureID)
	if err != nil || !e.HasAccess {
		c.stats.denied.Add(1)
		return false, err
	}
	return true, nil
}

// Get returns the customer's aggregated entitlement to the feature, with
// the same cache and fallback as HasAccess (Stale is set on a last known
// value). A feature the customer has no entitlement for gives an error
// wrapping ErrFeatureNotFound.
func (c *Checker) Get(ctx context.Context, customerID, featureID string) (Entitlement, error) {
	e, found, err := c.entitlement(ctx, customerID, featureID)
	if err != nil {
		c.stats.denied.Add(1)
		return Entitlement{}, err
	}
	if !found {
		c.stats.denied.Add(1)
		return Entitlement{}, fmt.Errorf("%w: customer %q, feature %q", ErrFeatureNotFound, customerID, featureID)
	}
	if !e.HasAccess {
		c.stats.denied.Add(1)
	}
	return e.clone(), nil
}

// All returns every entitlement of the customer, by feature ID.
//
// When kelviq cannot be reached, the last known entitlements are returned,
// marked Stale, leaving out each feature whose own max-stale bound the
// value exceeds; when that leaves nothing and the value is older than the
// default bound too, All fails with an error wrapping ErrUnavailable.
func (c *Checker) All(ctx context.Context, customerID string) (map[string]Entitlement, error) {
	out, err := c.all(ctx, customerID)
	if err != nil {
		c.stats.denied.Add(1)
	}
	return out, err
}

func (c *Checker) all(ctx context.Context, customerID string) (map[string]Entitlement, error) {
	if customerID == "" {
		c.stats.errors.Add(1)
		return nil, fmt.Errorf("%w: empty customer ID", errInvalidArgument)
	}
	fresh, src, last, err := c.resolve(ctx, customerID, c.cfg.maxStale)
	if abandoned(ctx, err) {
		return nil, c.abandon(customerID, err)
	}
	if err == nil {
		c.countAnswer(src)
		// A feature whose entries could not be read is left out: All has
		// no place for its error (Get and HasAccess give it).
		out := make(map[string]Entitlement, len(fresh.features))
		for id, e := range fresh.features {
			out[id] = e.clone()
		}
		return out, nil
	}
	if transient(err) && last != nil {
		age := last.age(c.cfg.now())
		out := make(map[string]Entitlement)
		for id, e := range last.features {
			if age < c.cfg.maxStaleOf(id) {
				e = e.clone()
				e.Stale = true
				out[id] = e
			}
		}
		if len(out) > 0 || age < c.cfg.maxStale {
			c.stats.stale.Add(1)
			return out, nil
		}
	}
	return nil, c.failure(customerID, err)
}

// Invalidate forgets what is known of the customer, in memory and in the
// shared store, so that the next check asks kelviq. Call it when the
// customer's entitlements change (see WebhookHandlerFunc). A fetch already
// in progress still answers the checks waiting for it but is not cached,
// in memory or in the store.
//
// The bound across instances: a fetch in progress in another process
// (which this Invalidate cannot flag) may save its earlier answer to the
// store just after the delete; that answer is then served for at most the
// TTL. So is an answer kelviq gives before it has applied the change the
// webhook announced.
//
// Deleting from the store is bounded by a few seconds; a store failure is
// logged, not returned.
func (c *Checker) Invalidate(customerID string) {
	if customerID == "" {
		return
	}
	c.flightsMu.Lock()
	for f := range c.flights[customerID] {
		f.invalidated = true
	}
	c.flagSaves(customerID)
	c.mem.remove(customerID)
	c.failed.forget(customerID)
	c.flightsMu.Unlock()
	c.group.Forget(customerID)
	ctx, cancel := context.WithTimeout(context.Background(), storeOpTimeout)
	defer cancel()
	c.store.delete(ctx, c.key(customerID))
}

// entitlement answers for one feature: fresh, else the last known value
// within the feature's bound, else an error.
func (c *Checker) entitlement(ctx context.Context, customerID, featureID string) (Entitlement, bool, error) {
	switch {
	case customerID == "":
		c.stats.errors.Add(1)
		return Entitlement{}, false, fmt.Errorf("%w: empty customer ID", errInvalidArgument)
	case featureID == "":
		c.stats.errors.Add(1)
		return Entitlement{}, false, fmt.Errorf("%w: empty feature ID (customer %q)", errInvalidArgument, customerID)
	}
	fresh, src, last, err := c.resolve(ctx, customerID, c.cfg.maxStaleOf(featureID))
	if abandoned(ctx, err) {
		return Entitlement{}, false, c.abandon(customerID, err)
	}
	if err == nil {
		if bad := fresh.broken[featureID]; bad != nil {
			return Entitlement{}, false, c.unreadable(customerID, featureID, bad)
		}
		c.countAnswer(src)
		e, found := fresh.features[featureID]
		return e, found, nil
	}
	if transient(err) && last != nil && last.age(c.cfg.now()) < c.cfg.maxStaleOf(featureID) {
		if bad := last.broken[featureID]; bad != nil {
			return Entitlement{}, false, c.unreadable(customerID, featureID, bad)
		}
		c.stats.stale.Add(1)
		e, found := last.features[featureID]
		e.Stale = true
		return e, found, nil
	}
	return Entitlement{}, false, c.failure(customerID, err)
}

// countAnswer counts a check answered fresh, by where the answer came from.
func (c *Checker) countAnswer(src source) {
	switch src {
	case fromStore:
		c.stats.storeHits.Add(1)
	case fromKelviq:
		c.stats.fetched.Add(1)
	default:
		c.stats.hits.Add(1)
	}
}

// unreadable is the error of a check of a feature whose entries in kelviq's
// answer could not be read (decodeAnswer): the customer's other features
// are answered, this one is not, and is not granted.
func (c *Checker) unreadable(customerID, featureID string, err error) error {
	c.stats.errors.Add(1)
	return fmt.Errorf("entitlements: customer %q, feature %q: kelviq's answer for the feature cannot be read: %w", customerID, featureID, err)
}

// abandoned reports whether err is the caller's own cancellation of the
// check (ctx cancelled, not timed out): kelviq may be up and have changed
// the customer, so the check is neither an outage nor answered stale. A
// caller's deadline is a timeout of kelviq, and is (issue 13's fallback).
func abandoned(ctx context.Context, err error) bool {
	return err != nil && errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

// abandon is the error of a check its caller cancelled.
func (c *Checker) abandon(customerID string, err error) error {
	c.stats.errors.Add(1)
	return fmt.Errorf("entitlements: customer %q: the check was cancelled: %w", customerID, err)
}

// failure is the error of a check that could not be answered.
func (c *Checker) failure(customerID string, err error) error {
	c.stats.errors.Add(1)
	if transient(err) {
		return fmt.Errorf("%w: customer %q: %w", ErrUnavailable, customerID, err)
	}
	return fmt.Errorf("entitlements: customer %q: %w", customerID, err)
}

// age is how old s is, on the hot path. With the real clock it is
// time.Since, which reads only the monotonic clock (every snapshot's
// fetchedAt has a monotonic reading, see snapshotOf): time.Now reads the
// wall clock too, and a clock read costs 50–150 ns on a VM.
func (c *Checker) age(s *snapshot) time.Duration {
	if c.realClock {
		return time.Since(s.fetchedAt)
	}
	return s.age(c.cfg.now())
}

// key is the customer's key in the shared store: environment and customer
// (the environment has no colon, so the customer ID after it is unambiguous).
func (c *Checker) key(customerID string) string { return c.env + ":" + customerID }
