package entitlements

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// staleRetryInterval is how long a last known value is served stale after a
// failed fetch before kelviq is tried again for that customer.
const staleRetryInterval = time.Second

// source is where a check's fresh answer came from, for Stats.
type source uint8

const (
	fromMemory source = iota // fresh in memory
	fromStore                // the shared store's fresh record
	fromKelviq               // a call to kelviq
)

// fetchResult is what one fetch gives every check waiting for it: a fresh
// snapshot and where it came from, or the error and the last known snapshot
// (nil when none).
type fetchResult struct {
	fresh *snapshot
	src   source
	last  *snapshot
	err   error
}

// resolve returns the customer's fresh snapshot and where it came from, or
// the error of fetching it and the last known snapshot. Concurrent misses
// for one customer share one fetch; each waits for it at most until its own
// ctx ends.
//
// maxStale is the bound the caller will serve a last known value within.
// A stale value stands in only for its own customer's failure: during the
// pause after the customer's fetch failed (snapshot.retryAt), and after it
// while kelviq failed for that customer recently (failingFor), when the
// check is answered stale at once and the customer is fetched in the
// background, so that an outage where calls hang until they time out delays
// one check of each customer, not every check. Another customer's failure
// never serves this one's expired value: kelviq may be answering for it
// (and have revoked it), so the check waits for its fetch.
//
// A customer with nothing known whose fetch failed is remembered the same
// way (failures): until its pause ends, its checks fail at once with that
// error instead of calling again.
func (c *Checker) resolve(ctx context.Context, customerID string, maxStale time.Duration) (fresh *snapshot, src source, last *snapshot, err error) {
	now := c.cfg.now()
	s := c.mem.get(customerID)
	switch {
	case s != nil:
		if s.age(now) < c.cfg.ttl {
			return s, fromMemory, nil, nil // counted by the caller (countAnswer)
		}
		if s.lastErr != nil {
			if now.Before(s.retryAt) {
				c.stats.misses.Add(1)
				return nil, 0, s, s.lastErr
			}
			if now.Sub(s.failedAt) < c.failingFor() && s.age(now) < maxStale {
				c.stats.misses.Add(1)
				c.fetchInBackground(ctx, customerID)
				return nil, 0, s, s.lastErr
			}
		}
	default:
		if fl := c.failed.current(customerID, now); fl != nil {
			c.stats.misses.Add(1)
			if s := c.storeDuringPause(ctx, customerID, fl, now); s != nil {
				if s.lastErr == nil {
					return s, fromStore, nil, nil
				}
				return nil, 0, s, s.lastErr
			}
			return nil, 0, nil, fl.err
		}
	}
	c.stats.misses.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, 0, s, err
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
		return f.fresh, f.src, f.last, f.err
	case <-ctx.Done():
		return nil, 0, s, ctx.Err()
	}
}

// storeDuringPause looks for the customer in the shared store during the
// pause after its fetch failed with nothing known of it: kelviq is known to
// be failing for it, so a record another instance saved meanwhile is used
// rather than failing the check. A fresh record answers; an expired one is
// kept as the customer's last known value, with the failure's pause (it is
// then served stale within its bound, as if this instance had known it).
// Concurrent checks share one read, which has the store's own budget.
func (c *Checker) storeDuringPause(ctx context.Context, customerID string, fl *failure, now time.Time) *snapshot {
	if c.store.s == nil || c.store.skipping() {
		return nil
	}
	v, _, _ := c.storeReads.Do(customerID, func() (any, error) {
		f := c.startFlight(customerID)
		defer c.endFlight(customerID, f)
		rec, ok := c.store.load(ctx, c.key(customerID))
		if !ok {
			return (*snapshot)(nil), nil
		}
		s, err := c.snapshotOf(rec, customerID, now)
		if err != nil {
			c.logDebug(ctx, "entitlements: ignoring an unreadable record of the store", "customer", customerID, "error", err)
			return (*snapshot)(nil), nil
		}
		if s.age(now) >= c.cfg.ttl {
			s = &snapshot{features: s.features, access: s.access, broken: s.broken, fetchedAt: s.fetchedAt, retryAt: fl.retryAt, failedAt: fl.failedAt, lastErr: fl.err}
		}
		if c.rememberIfNewer(customerID, s, f) {
			c.failed.forget(customerID)
		}
		return s, nil
	})
	return v.(*snapshot)
}

// failingFor is how long after a customer's failed fetch its last known
// value is answered at once, without waiting for the fetch that follows the
// pause (see resolve): the TTL, and at least two fetch timeouts, so that
// calls that hang until they time out keep the customer's failure current
// between one failure and the next. Past it, a check waits for the fetch:
// the failure is old, and kelviq may be answering again.
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
//
// The store has its own budget (WithStoreTimeout), apart from the fetch's
// (WithFetchTimeout): a store that is slow or hung costs a check that
// budget, then the fetch goes on to kelviq as if the store had missed.
func (c *Checker) fetch(parent context.Context, customerID string, refresh bool) fetchResult {
	f := c.startFlight(customerID)
	defer c.endFlight(customerID, f)
	key := c.key(customerID)
	now := c.cfg.now()
	last := c.mem.get(customerID)
	if last != nil && !refresh && last.age(now) < c.cfg.ttl {
		// A fetch that ended just before this one started already
		// answered: a check that missed a moment ago joins it here.
		return fetchResult{fresh: last, src: last.origin}
	}

	if rec, ok := c.store.load(parent, key); ok {
		if s, err := c.snapshotOf(rec, customerID, now); err != nil {
			c.logDebug(parent, "entitlements: ignoring an unreadable record of the store", "customer", customerID, "error", err)
		} else if last == nil || s.fetchedAt.After(last.fetchedAt) {
			if s.age(now) < c.cfg.ttl {
				c.remember(customerID, s, f)
				c.failed.forget(customerID)
				return fetchResult{fresh: s, src: fromStore}
			}
			last = s
		}
	}

	ctx, cancel := context.WithTimeout(parent, c.cfg.fetchTimeout)
	defer cancel()
	c.stats.apiCalls.Add(1)
	body, ans, err := c.call(ctx, customerID)
	if err == nil {
		c.api.ok(ctx)
		c.failed.forget(customerID)
		s := c.newSnapshot(aggregate(ans.entries, now), ans.broken, now)
		s.origin = fromKelviq
		if c.remember(customerID, s, f) {
			// The save may run on past its budget, after this fetch has
			// ended: it is a flight of its own until it has landed, so that
			// an Invalidate meanwhile has it deleted again.
			sf := c.startSave(customerID, f)
			c.store.save(parent, key, Record{FetchedAt: now, Body: body}, c.cfg.storeTTL(), func() bool { return c.invalidated(sf) }, func() { c.endSave(customerID, sf) })
		}
		return fetchResult{fresh: s, src: fromKelviq}
	}
	if !transient(err) {
		// kelviq's definite answer (the customer does not exist, the key is
		// wrong): nothing known of the customer stands any more.
		if _, answered := errors.AsType[*kelviq.Error](err); answered {
			// kelviq answered: it is not down.
			c.api.ok(ctx)
		}
		c.mem.remove(customerID)
		c.failed.forget(customerID)
		// A save of an earlier answer still running must not put it back
		// after the delete (startSave).
		c.flightsMu.Lock()
		c.flagSaves(customerID)
		c.flightsMu.Unlock()
		c.store.delete(parent, key)
		return fetchResult{err: err}
	}
	c.api.fail(ctx, err)
	// The first checks get err whole; the pause's are given the copy
	// remembered, without the response body.
	kept := compactError(err)
	failedAt := c.cfg.now()
	retryAt := failedAt.Add(c.retryAfter(err))
	switch {
	case last == nil:
		// Nothing known: remember the failure, so that the checks of the
		// pause fail at once instead of calling again.
		c.rememberFailure(customerID, &failure{retryAt: retryAt, failedAt: failedAt, err: kept}, f)
	case last.age(failedAt) >= c.cfg.ttl:
		// Keep serving the last known value without asking kelviq again for
		// a moment. (A refresh ahead that failed keeps its fresh snapshot.)
		c.remember(customerID, &snapshot{features: last.features, access: last.access, broken: last.broken, fetchedAt: last.fetchedAt, retryAt: retryAt, failedAt: failedAt, lastErr: kept}, f)
	}
	return fetchResult{last: last, err: err}
}

// compactError is err as remembered for a customer's pause (a failure, a
// kept copy's lastErr): the *kelviq.Error in it without its Body and
// FieldErrors, which hold up to 64 KiB of the response each. An outage
// behind a proxy answers every customer with the same error page, and a
// copy kept per customer (up to WithMaxCustomers, plus the unknown ones)
// would pin a copy of it each. The text, the status, Message and
// RetryAfter stay; errors.Is and errors.As find what they found.
func compactError(err error) error {
	apiErr, ok := errors.AsType[*kelviq.Error](err)
	if !ok || (apiErr.Body == nil && apiErr.FieldErrors == nil) {
		return err
	}
	cp := *apiErr
	cp.Body, cp.FieldErrors = nil, nil
	if direct, _ := err.(*kelviq.Error); direct == apiErr {
		return &cp
	}
	return &compacted{text: err.Error(), apiErr: &cp}
}

// compacted is a wrapped error whose *kelviq.Error was compacted: its text
// is the original's, and it unwraps to the compact copy.
type compacted struct {
	text   string
	apiErr *kelviq.Error
}

func (e *compacted) Error() string { return e.text }
func (e *compacted) Unwrap() error { return e.apiErr }

// call asks kelviq for the customer's entitlements (one attempt, see
// fetchEditors) and reads the answer entry by entry (decodeAnswer). It
// returns the body as it came, for the store.
func (c *Checker) call(ctx context.Context, customerID string) ([]byte, *answer, error) {
	rsp, err := c.client.GetCustomerEntitlements(ctx, &api.GetCustomerEntitlementsParams{CustomerID: customerID}, fetchEditors...)
	if err != nil {
		return nil, nil, err
	}
	defer rsp.Body.Close()
	// The client caps the body (kelviq.WithMaxResponseBytes): a read past
	// it is the call's own error.
	body, err := io.ReadAll(rsp.Body)
	if err != nil {
		return nil, nil, err
	}
	if rsp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%w: getCustomerEntitlements answered %d without a JSON body", kelviq.ErrUnexpectedResponse, rsp.StatusCode)
	}
	ans, err := decodeAnswer(body, customerID)
	if err != nil {
		return nil, nil, err
	}
	return body, ans, nil
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

// snapshotOf reads a record of the store for the customer. A fetch time in
// the future counts as now when it is within maxClockSkew. Beyond it, the
// record's age is unknown (it may be as old as the store keeps records) and
// the record is not used at all: taken as fresh it would stay fresh past the
// TTL, and taken as just expired it would be served stale past a feature's
// max-stale bound for as long as the skew.
func (c *Checker) snapshotOf(rec Record, customerID string, now time.Time) (*snapshot, error) {
	ans, err := decodeAnswer(rec.Body, customerID)
	if err != nil {
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
	s := c.newSnapshot(aggregate(ans.entries, at), ans.broken, at)
	s.origin = fromStore
	return s, nil
}

// newSnapshot makes a snapshot whose access map is shared with the
// customers that have the same one.
func (c *Checker) newSnapshot(features map[string]Entitlement, broken map[string]error, fetchedAt time.Time) *snapshot {
	s := newSnapshot(features, fetchedAt)
	s.broken = broken
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

// startSave registers the store write of f's answer as a flight of its own
// (in saves, not flights: a write that hangs must not stop the customer's
// background fetches), already invalidated when f was.
func (c *Checker) startSave(customerID string, f *flight) *flight {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	sf := &flight{invalidated: f.invalidated}
	set := c.saves[customerID]
	if set == nil {
		set = make(map[*flight]struct{}, 1)
		c.saves[customerID] = set
	}
	set[sf] = struct{}{}
	return sf
}

// flagSaves marks the customer's saves in progress invalidated: each
// deletes what it wrote once it lands. The caller holds flightsMu.
func (c *Checker) flagSaves(customerID string) {
	for f := range c.saves[customerID] {
		f.invalidated = true
	}
}

func (c *Checker) endSave(customerID string, sf *flight) {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	set := c.saves[customerID]
	delete(set, sf)
	if len(set) == 0 {
		delete(c.saves, customerID)
	}
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

// rememberIfNewer is remember for a snapshot read from the store outside a
// fetch (storeDuringPause): it does not replace a snapshot fetched after it,
// which a fetch that ended while the store was read put in memory (kelviq
// answered meanwhile, and may have revoked what the record grants).
func (c *Checker) rememberIfNewer(customerID string, s *snapshot, f *flight) bool {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	if f.invalidated {
		return false
	}
	if cur := c.mem.get(customerID); cur != nil && !s.fetchedAt.After(cur.fetchedAt) {
		return false
	}
	c.mem.put(customerID, s)
	return true
}

// rememberFailure keeps the failed fetch of a customer with nothing known,
// unless the customer was invalidated while f was fetching it.
func (c *Checker) rememberFailure(customerID string, fl *failure, f *flight) {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	if !f.invalidated {
		c.failed.put(customerID, fl)
	}
}

func (c *Checker) logDebug(ctx context.Context, msg string, args ...any) {
	if c.cfg.logger != nil {
		c.cfg.logger.DebugContext(ctx, msg, args...)
	}
}
