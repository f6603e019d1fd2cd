package entitlements

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// storeRetryInterval is how long the store is left alone after it failed:
// Redis clients retry with backoff inside one call, so a store that is down
// would otherwise add that delay to every miss. Deletes are always tried.
const storeRetryInterval = time.Second

// maxStoreOps bounds the store operations in progress at once. An operation
// past its budget is no longer waited for but still runs (a Store may not
// honour its context: go-redis by default waits for its own ReadTimeout,
// 3 s, and retries): the bound keeps a hung store from piling up goroutines.
// When it is reached, a check goes on as if the store had missed.
const maxStoreOps = 64

// errStoreTimeout is the failure of a store operation that did not end
// within its budget.
var errStoreTimeout = errors.New("entitlements: the store did not answer within its budget (WithStoreTimeout)")

// storeLevel is the Checker's use of its Store: it never returns an error,
// bounds each operation by its own budget, counts and logs failures once
// per outage, and skips the store for a while after one.
type storeLevel struct {
	s         Store
	timeout   time.Duration // the budget of a load or a save
	health    outage
	now       func() time.Time
	skipUntil atomic.Int64 // Unix nanoseconds
	errors    atomic.Uint64
	ops       chan struct{} // a slot per operation in progress (maxStoreOps)
}

func newStoreLevel(s Store, timeout time.Duration, now func() time.Time, logger *slog.Logger) *storeLevel {
	return &storeLevel{s: s, timeout: timeout, now: now, health: outage{what: "the entitlements store", logger: logger}, ops: make(chan struct{}, maxStoreOps)}
}

func (l *storeLevel) skipping() bool { return l.now().UnixNano() < l.skipUntil.Load() }

func (l *storeLevel) failed(ctx context.Context, err error) {
	l.errors.Add(1)
	l.skipUntil.Store(l.now().Add(storeRetryInterval).UnixNano())
	l.health.fail(ctx, err)
}

// errStoreBusy is run's answer when maxStoreOps operations are in progress.
var errStoreBusy = errors.New("entitlements: too many store operations in progress")

// run runs op with a context of its own budget (detached from ctx's
// cancellation, keeping its values) and waits for it at most that long,
// whether or not op honours the context: past it, op goes on alone and run
// returns errStoreTimeout. With bounded set, it refuses (errStoreBusy)
// rather than start more than maxStoreOps operations.
func (l *storeLevel) run(ctx context.Context, budget time.Duration, bounded bool, op func(context.Context) error) error {
	if bounded {
		select {
		case l.ops <- struct{}{}:
		default:
			return errStoreBusy
		}
	}
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	done := make(chan error, 1) // buffered: an op past its budget does not leak
	go func() {
		defer cancel()
		if bounded {
			defer func() { <-l.ops }()
		}
		done <- op(opCtx)
	}()
	select {
	case err := <-done:
		return err
	case <-opCtx.Done():
		select {
		case err := <-done:
			return err
		default:
			return fmt.Errorf("%w (%v)", errStoreTimeout, budget)
		}
	}
}

func (l *storeLevel) load(ctx context.Context, key string) (Record, bool) {
	if l.s == nil || l.skipping() {
		return Record{}, false
	}
	// The op hands its result over a channel: past the budget it may
	// still be running when load returns.
	type result struct {
		rec Record
		ok  bool
	}
	res := make(chan result, 1)
	err := l.run(ctx, l.timeout, true, func(ctx context.Context) error {
		r, found, err := l.s.Load(ctx, key)
		res <- result{r, found}
		return err
	})
	switch {
	case errors.Is(err, errStoreBusy):
		return Record{}, false
	case err != nil:
		l.failed(ctx, err)
		return Record{}, false
	}
	r := <-res
	l.health.ok(ctx)
	return r.rec, r.ok
}

// save saves rec, then deletes it again when invalidated reports that the
// customer was invalidated meanwhile (its delete may have come first): the
// answer predates the invalidation. The delete follows the save even past
// the save's budget. done is called once the save has ended (or was not
// started), past the budget too.
func (l *storeLevel) save(ctx context.Context, key string, rec Record, ttl time.Duration, invalidated func() bool, done func()) {
	if l.s == nil || l.skipping() {
		done()
		return
	}
	err := l.run(ctx, l.timeout, true, func(opCtx context.Context) error {
		defer done()
		err := l.s.Save(opCtx, key, rec, ttl)
		if invalidated() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeOpTimeout)
			defer cancel()
			if derr := l.s.Delete(dctx, key); derr != nil && err == nil {
				err = derr
			}
		}
		return err
	})
	switch {
	case errors.Is(err, errStoreBusy):
		done() // op never ran
	case err != nil:
		l.failed(ctx, err)
	default:
		l.health.ok(ctx)
	}
}

// delete removes key's record within storeOpTimeout. Unlike loads and saves
// it is tried whether or not the store is failing, and is never refused for
// the operations in progress: it is what makes an invalidation hold.
func (l *storeLevel) delete(ctx context.Context, key string) {
	if l.s == nil {
		return
	}
	if err := l.run(ctx, storeOpTimeout, false, func(ctx context.Context) error { return l.s.Delete(ctx, key) }); err != nil {
		l.failed(ctx, err)
		return
	}
	l.health.ok(ctx)
}
