package entitlements

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// outage tracks whether a dependency (kelviq, the shared store) is failing,
// so that an outage is logged once when it starts and once when it ends,
// however many checks run into it.
type outage struct {
	what    string // "kelviq", "entitlements store"
	logger  *slog.Logger
	down    atomic.Bool
	lastErr atomic.Pointer[error] // the latest failure, while down

	now      func() time.Time // the Checker's clock; nil: failedAt is not kept
	failedAt atomic.Int64     // Unix nanoseconds of the latest failure
}

// fail records a failure; it logs when it starts an outage.
func (o *outage) fail(ctx context.Context, err error) {
	if o.now != nil {
		o.failedAt.Store(o.now().UnixNano())
	}
	o.lastErr.Store(&err)
	if o.down.CompareAndSwap(false, true) && o.logger != nil {
		o.logger.WarnContext(ctx, "entitlements: "+o.what+" is failing; checks go on (logged once per outage)", "error", err)
	}
}

// failing returns the latest failure while the dependency is failing, and
// nil when its latest call succeeded or when the latest failure is older
// than within: an instance that no longer calls (the shared store answers
// its misses) must not take kelviq for down forever on an old failure.
func (o *outage) failing(within time.Duration) error {
	if !o.down.Load() {
		return nil
	}
	if o.now != nil && o.now().UnixNano()-o.failedAt.Load() >= int64(within) {
		return nil
	}
	if p := o.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// ok records a success; it logs when it ends an outage.
func (o *outage) ok(ctx context.Context) {
	if o.down.Load() && o.down.CompareAndSwap(true, false) && o.logger != nil {
		o.logger.InfoContext(ctx, "entitlements: "+o.what+" is answering again")
	}
}
