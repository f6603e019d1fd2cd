package entitlements

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// staleRetryInterval is how long a last known value is served stale after a
// failed fetch before kelviq is tried again for that customer.
const staleRetryInterval = time.Second

// fetchResult is what one fetch gives every check waiting for it: a fresh
// snapshot, or the error and the last known snapshot (nil when none).
type fetchResult struct {
	fresh *snapshot
	last  *snapshot
	err   error
}

// resolve returns the customer's fresh snapshot, or the error of fetching it
// and the last known snapshot. Concurrent misses for one customer share one
// fetch; each waits for it at most until its own ctx ends.
//
// maxStale is the bound the caller will serve a last known value within.
// While kelviq is failing (its last call failed, recently: failingFor), a
// check that has such a value does not wait for a call at all: it is
// answered stale at once and the customer is fetched in the background. An outage where calls hang
// until they time out then delays one check, not every check.
func (c *Checker) resolve(ctx context.Context, customerID string, maxStale time.Duration) (fresh, last *snapshot, err error) {
	now := c.cfg.now()
	s := c.mem.get(customerID)
	if s != nil {
		if s.age(now) < c.cfg.ttl {
			c.stats.hits.Add(1)
			return s, nil, nil
		}
		if now.Before(s.retryAt) {
			c.stats.misses.Add(1)
			return nil, s, s.lastErr
		}
		if lastErr := c.api.failing(c.failingFor()); lastErr != nil && s.age(now) < maxStale {
			c.stats.misses.Add(1)
			c.fetchInBackground(ctx, customerID)
			return nil, s, lastErr
		}
	}
	c.stats.misses.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, s, err
	}
	// The fetch must not end with the first caller's context: the others
	// sharing it would fail with that caller's cancellation.
	detached := context.WithoutCancel(ctx)
	ch := c.group.DoChan(customerID, func() (any, error) {
		return c.fetch(detached, customerID, false), nil
	})
	select {
	case r := <-ch:
		f := r.Val.(fetchResult)
		return f.fresh, f.last, f.err
	case <-ctx.Done():
		return nil, s, ctx.Err()
	}
}

// failingFor is how long a failure of kelviq counts as current for the
// stale answers that do not wait (see resolve): the TTL, and at least two
// fetch timeouts, so that calls that hang until they time out keep an
// outage current between one failure and the next.
func (c *Checker) failingFor() time.Duration {
	return max(c.cfg.ttl, 2*c.cfg.fetchTimeout)
}

// fetchInBackground starts a fetch of the customer unless one is running;
// nobody waits for it.
func (c *Checker) fetchInBackground(ctx context.Context, customerID string) {
	c.flightsMu.Lock()
	running := len(c.flights[customerID]) > 0
	c.flightsMu.Unlock()
	if running {
		return
	}
	detached := context.WithoutCancel(ctx)
	// DoChan's channel is buffered: the result is dropped, not leaked.
	c.group.DoChan(customerID, func() (any, error) {
		return c.fetch(detached, customerID, false), nil
	})
}

// startRefresh refreshes s's customer in the background, once per snapshot.
func (c *Checker) startRefresh(customerID string, s *snapshot) {
	if !s.refreshing.CompareAndSwap(false, true) {
		return
	}
	go c.group.Do(customerID, func() (any, error) {
		return c.fetch(context.Background(), customerID, true), nil
	})
}

// fetch reads the customer from the shared store, then from kelviq, and
// caches what it finds. refresh is set for a refresh ahead, which replaces
// a snapshot that is still fresh.
func (c *Checker) fetch(parent context.Context, customerID string, refresh bool) fetchResult {
	f := c.startFlight(customerID)
	defer c.endFlight(customerID, f)
	ctx, cancel := context.WithTimeout(parent, c.cfg.fetchTimeout)
	defer cancel()
	key := c.key(customerID)
	now := c.cfg.now()
	last := c.mem.get(customerID)
	if last != nil && !refresh && last.age(now) < c.cfg.ttl {
		// A fetch that ended just before this one started already
		// answered: a check that missed a moment ago joins it here.
		return fetchResult{fresh: last}
	}

	if rec, ok := c.store.load(ctx, key); ok {
		if s, err := c.snapshotOf(rec, customerID, now); err != nil {
			c.logDebug(ctx, "entitlements: ignoring an unreadable record of the store", "customer", customerID, "error", err)
		} else if last == nil || s.fetchedAt.After(last.fetchedAt) {
			if s.age(now) < c.cfg.ttl {
				c.store.hits.Add(1)
				c.remember(customerID, s, f)
				return fetchResult{fresh: s}
			}
			last = s
		}
	}

	c.stats.apiCalls.Add(1)
	res, err := c.client.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: customerID})
	if err == nil && (res == nil || res.JSON200 == nil) {
		status := 0
		if res != nil {
			status = res.StatusCode()
		}
		err = fmt.Errorf("%w: getCustomerEntitlements answered %d without a JSON body", kelviq.ErrUnexpectedResponse, status)
	}
	if err == nil {
		err = checkAnswer(res.Body, res.JSON200, customerID)
	}
	if err == nil {
		c.api.ok(ctx)
		s := c.newSnapshot(aggregate(res.JSON200.Entitlements, now), now)
		if c.remember(customerID, s, f) {
			c.store.save(ctx, key, Record{FetchedAt: now, Body: res.Body}, c.cfg.storeTTL())
			if c.invalidated(f) {
				// Invalidate ran while the answer was being saved, maybe
				// before the save reached the store: its delete may have
				// come first. The answer predates the invalidation.
				c.store.delete(ctx, key)
			}
		}
		return fetchResult{fresh: s}
	}
	if !transient(err) {
		// kelviq's definite answer (the customer does not exist, the key is
		// wrong): nothing known of the customer stands any more.
		if _, answered := errors.AsType[*kelviq.Error](err); answered {
			// kelviq answered: it is not down. Left failing, every
			// customer's expired value would be served stale without a
			// call while kelviq refuses them all (a revoked key).
			c.api.ok(ctx)
		}
		c.mem.remove(customerID)
		c.store.delete(ctx, key)
		return fetchResult{err: err}
	}
	c.api.fail(ctx, err)
	if last != nil && last.age(c.cfg.now()) >= c.cfg.ttl {
		// Keep serving the last known value without asking kelviq again for
		// a moment. (A refresh ahead that failed keeps its fresh snapshot.)
		kept := &snapshot{features: last.features, access: last.access, fetchedAt: last.fetchedAt, retryAt: c.cfg.now().Add(c.retryAfter(err)), lastErr: err}
		c.remember(customerID, kept, f)
	}
	return fetchResult{last: last, err: err}
}

// retryAfter is how long a last known value is served without asking kelviq
// again after the failure err: staleRetryInterval, or the Retry-After kelviq
// sent with a 429 or 503 when longer, up to the TTL (a longer one from a
// misbehaving server would deny a feature past its bound for that long
// without asking).
func (c *Checker) retryAfter(err error) time.Duration {
	d := staleRetryInterval
	if apiErr, ok := errors.AsType[*kelviq.Error](err); ok && apiErr.RetryAfter > d {
		d = min(apiErr.RetryAfter, c.cfg.ttl)
	}
	return d
}

// maxClockSkew is how far in the future a record's fetch time may be (the
// instance that saved it has a clock ahead of ours) and still count as
// fetched now.
const maxClockSkew = time.Second

// checkAnswer refuses an answer of kelviq (from the API or a record of the
// store), raw as it came and body decoded, that is not one for customerID:
//   - JSON null, which decodes without an error into "no entitlements" but
//     is no object at all (a proxy, a broken record);
//   - an answer that names another customer than the one asked for (a proxy
//     that caches by path alone, a record copied under the wrong key): using
//     it would give one customer another's entitlements.
//
// An answer that names no customer is taken as is (the spec does not
// require the field).
func checkAnswer(raw []byte, body *api.CheckEntitlementsResponse, customerID string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return fmt.Errorf("%w: getCustomerEntitlements for customer %q answered JSON null", kelviq.ErrUnexpectedResponse, customerID)
	}
	if body.CustomerID != nil && *body.CustomerID != customerID {
		// The customer it names is not quoted: a server's text may echo
		// the key (the kelviq client redacts its own errors, not this one).
		return fmt.Errorf("%w: getCustomerEntitlements for customer %q answered for another customer", kelviq.ErrUnexpectedResponse, customerID)
	}
	return nil
}

// snapshotOf reads a record of the store for the customer. A fetch time in
// the future counts as now when it is within maxClockSkew. Beyond it, the
// record's age is unknown (it may be as old as the store keeps records) and
// the record is not used at all: taken as fresh it would stay fresh past the
// TTL, and taken as just expired it would be served stale past a feature's
// max-stale bound for as long as the skew.
func (c *Checker) snapshotOf(rec Record, customerID string, now time.Time) (*snapshot, error) {
	var body api.CheckEntitlementsResponse
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		return nil, err
	}
	if err := checkAnswer(rec.Body, &body, customerID); err != nil {
		return nil, err
	}
	at := rec.FetchedAt
	switch {
	case at.IsZero():
		return nil, fmt.Errorf("the record has no fetch time")
	case at.After(now.Add(maxClockSkew)):
		return nil, fmt.Errorf("the record was fetched %v in the future (a clock ahead of ours?)", at.Sub(now).Round(time.Second))
	case at.After(now):
		at = now
	}
	// The same instant on our clock, with now's monotonic reading, so that
	// the hot path's age is one monotonic clock read (Checker.age).
	at = now.Add(-now.Sub(at))
	return c.newSnapshot(aggregate(body.Entitlements, at), at), nil
}

// newSnapshot makes a snapshot whose access map is shared with the
// customers that have the same one.
func (c *Checker) newSnapshot(features map[string]Entitlement, fetchedAt time.Time) *snapshot {
	s := newSnapshot(features, fetchedAt)
	s.access = c.accessSets.intern(s.access)
	return s
}

func (c *Checker) startFlight(customerID string) *flight {
	f := &flight{}
	c.flightsMu.Lock()
	set := c.flights[customerID]
	if set == nil {
		set = make(map[*flight]struct{}, 1)
		c.flights[customerID] = set
	}
	set[f] = struct{}{}
	c.flightsMu.Unlock()
	return f
}

func (c *Checker) endFlight(customerID string, f *flight) {
	c.flightsMu.Lock()
	set := c.flights[customerID]
	delete(set, f)
	if len(set) == 0 {
		delete(c.flights, customerID)
	}
	c.flightsMu.Unlock()
}

// invalidated reports whether the customer was invalidated while f was
// fetching it.
func (c *Checker) invalidated(f *flight) bool {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	return f.invalidated
}

// remember caches s in memory unless the customer was invalidated while f
// was fetching it; it reports whether it did.
func (c *Checker) remember(customerID string, s *snapshot, f *flight) bool {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	if f.invalidated {
		return false
	}
	c.mem.put(customerID, s)
	return true
}

func (c *Checker) logDebug(ctx context.Context, msg string, args ...any) {
	if c.cfg.logger != nil {
		c.cfg.logger.DebugContext(ctx, msg, args...)
	}
}
