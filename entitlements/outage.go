package entitlements

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// outage tracks whether a dependency (kelviq, the shared store) is failing,
// so that an outage is logged once when it starts and once when it ends,
// however many checks run into it. It serves logging only: whether a
// customer's last known value stands in is that customer's own failure
// (snapshot.lastErr), never another's.
type outage struct {
	what   string // "kelviq", "entitlements store"
	logger *slog.Logger
	down   atomic.Bool
}

// fail records a failure; it logs when it starts an outage.
func (o *outage) fail(ctx context.Context, err error) {
	if o.down.CompareAndSwap(false, true) && o.logger != nil {
		o.logger.WarnContext(ctx, "entitlements: "+o.what+" is failing; checks go on (logged once per outage)", "error", err)
	}
}

// ok records a success; it logs when it ends an outage.
func (o *outage) ok(ctx context.Context) {
	if o.down.Load() && o.down.CompareAndSwap(true, false) && o.logger != nil {
		o.logger.InfoContext(ctx, "entitlements: "+o.what+" is answering again")
	}
}
