package kelviq

import (
	"context"
	"sync/atomic"
	"time"
)

// A whole-call deadline made with context.WithTimeout costs a runtime timer
// per call, and arming a timer wakes the network poller that the
// connection's goroutines sleep in: on loopback that was 6% of a call, as
// much as a per-call timeout costs raw net/http (BENCHMARKS.md). A client's
// own timeout (DefaultTimeout: 80 s) is a safety net, not a precise bound,
// so calls share deadlines instead: the calls that start within one slot
// (1% of the timeout) share one context.WithDeadline that ends the timeout
// after the slot's end. A call is then bounded to between the timeout and
// the timeout plus a slot; one timer serves every call of the slot. A
// slot lives as long as the timeout, so about 100 are alive at any time,
// whatever the timeout: each keeps the map of the calls it bounded at
// their most (about 54 KB after 1,000 calls in flight at once), and slots
// of a second under a timeout of an hour (3,600 alive) kept 190 MB.
//
// Only for a call whose own context can never be cancelled (Done is nil:
// context.Background and values on it, as in a job or a worker); a
// cancellable context (an HTTP server's request) gets its own
// context.WithTimeout, as does a WithCallTimeout.

// sharedDeadlineMin is the shortest timeout whose calls share deadlines:
// below it a slot of 1% would be too fine to save anything. A variable for
// tests.
var sharedDeadlineMin = 10 * time.Second

// slotsPerTimeout is how many slots a timeout is cut into: about as many
// are alive at once (see above).
const slotsPerTimeout = 100

// sharedDeadlines hands out the shared deadline of the current slot.
type sharedDeadlines struct {
	timeout time.Duration
	slot    time.Duration
	cur     atomic.Pointer[deadlineSlot]
}

type deadlineSlot struct {
	end    time.Time       // calls starting before it share ctx
	ctx    context.Context // ends at end + timeout
	cancel context.CancelFunc
}

func newSharedDeadlines(timeout time.Duration) *sharedDeadlines {
	if timeout < sharedDeadlineMin {
		return nil
	}
	return &sharedDeadlines{timeout: timeout, slot: timeout / slotsPerTimeout}
}

// context returns parent bounded by the shared deadline, or false when
// parent can be cancelled (the caller then makes its own deadline).
func (d *sharedDeadlines) context(parent context.Context) (context.Context, bool) {
	if d == nil || parent.Done() != nil {
		return nil, false
	}
	now := time.Now()
	s := d.cur.Load()
	if s == nil || !now.Before(s.end) {
		end := now.Add(d.slot)
		// Never cancelled but by its deadline (cancel is kept, not
		// called): it is shared, and its timer ends it, releasing
		// everything, once every call of the slot is past its timeout.
		ctx, cancel := context.WithDeadline(context.Background(), end.Add(d.timeout))
		s = &deadlineSlot{end: end, ctx: ctx, cancel: cancel}
		d.cur.Store(s) // a race makes two slots, which is harmless
	}
	return &sharedDeadlineCtx{Context: parent, shared: s.ctx}, true
}

// sharedDeadlineCtx is a call's context (its values) ending with a shared
// deadline context. parent's Done is nil, so shared's Done, Err and
// Deadline are the call's. Value falls back to shared's for what parent
// does not hold: that is how the context package finds shared's
// cancellation state, so a context derived from this one (net/http makes
// one per request) registers with shared instead of starting a goroutine
// to watch it.
type sharedDeadlineCtx struct {
	context.Context
	shared context.Context
}

func (c *sharedDeadlineCtx) Deadline() (time.Time, bool) { return c.shared.Deadline() }
func (c *sharedDeadlineCtx) Done() <-chan struct{}       { return c.shared.Done() }
func (c *sharedDeadlineCtx) Err() error                  { return c.shared.Err() }

func (c *sharedDeadlineCtx) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.shared.Value(key)
}
