package entitlements

import (
	"context"
	"sync/atomic"
	"time"
)

// storeRetryInterval is how long the store is left alone after it failed:
// Redis clients retry with backoff inside one call, so a store that is down
// would otherwise add that delay to every miss. Deletes are always tried.
const storeRetryInterval = time.Second

// storeLevel is the Checker's use of its Store: it never returns an error,
// counts and logs failures once per outage, and skips the store for a while
// after one.
type storeLevel struct {
	s         Store
	health    outage
	now       func() time.Time
	skipUntil atomic.Int64 // Unix nanoseconds
	errors    atomic.Uint64
	hits      atomic.Uint64
}

func (l *storeLevel) skipping() bool { return l.now().UnixNano() < l.skipUntil.Load() }

func (l *storeLevel) failed(ctx context.Context, err error) {
	l.errors.Add(1)
	l.skipUntil.Store(l.now().Add(storeRetryInterval).UnixNano())
	l.health.fail(ctx, err)
}

func (l *storeLevel) load(ctx context.Context, key string) (Record, bool) {
	if l.s == nil || l.skipping() {
		return Record{}, false
	}
	rec, ok, err := l.s.Load(ctx, key)
	if err != nil {
		l.failed(ctx, err)
		return Record{}, false
	}
	l.health.ok(ctx)
	return rec, ok
}

func (l *storeLevel) save(ctx context.Context, key string, rec Record, ttl time.Duration) {
	if l.s == nil || l.skipping() {
		return
	}
	if err := l.s.Save(ctx, key, rec, ttl); err != nil {
		l.failed(ctx, err)
		return
	}
	l.health.ok(ctx)
}

func (l *storeLevel) delete(ctx context.Context, key string) {
	if l.s == nil {
		return
	}
	if err := l.s.Delete(ctx, key); err != nil {
		l.failed(ctx, err)
		return
	}
	l.health.ok(ctx)
}
