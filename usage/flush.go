package usage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kelviq/kelviq-go/kelviq"
)

// Flush sends what is stored now, without waiting for the sender's
// backoff or the pause after a pair's request, and returns how many
// reports remain stored. It keeps sending while ctx allows and requests
// succeed, until nothing stored before the call is queued (reports stored
// meanwhile may remain): remaining 0 and a nil error mean everything was
// delivered. A pair whose request fails is not tried again by this call;
// once a request gets no answer at all (kelviq unreachable, or a
// timeout), no other pair is started. It honours a Retry-After kelviq
// asked for: until then it sends nothing and returns an error saying so.
// err is the first failure (nil when every send succeeded), or ctx's
// error.
//
// On an outbox other Reporters share, Flush does not skip their backoff
// (the outbox keeps it), and its remaining counts their reports too.
func (r *Reporter) Flush(ctx context.Context) (remaining int, err error) {
	r.closeMu.RLock()
	if r.closed {
		r.closeMu.RUnlock()
		return 0, ErrClosed
	}
	r.inflight.Add(1) // before Close can wait for it
	r.closeMu.RUnlock()
	defer r.inflight.Done()
	// Close stops this flush's requests too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.sendCtx, cancel)
	defer stop()
	return r.flush(ctx, false)
}

// flush is Flush without the closed check, for Close too. all drains
// everything queued, not only what was stored before the call: Close's,
// on an outbox nobody else writes to (no Report can start), so that a
// wall clock set back after reports were stored (their StoredAt then
// later than the call) does not leave them, lost with WithMemory.
func (r *Reporter) flush(ctx context.Context, all bool) (int, error) {
	start := r.cfg.now()
	r.mu.Lock()
	failBase := r.failCount
	r.mu.Unlock()
	// Pairs whose request failed in this call are not tried again by it;
	// every other pair's backoff or pause is skipped, also one the
	// background sender set after the call began (its request was in
	// flight at the start).
	var failedHere sync.Map // pair key → true
	resetBackoff := func() {
		if x := r.local; x != nil {
			skip := map[string]bool{}
			failedHere.Range(func(k, _ any) bool { skip[k.(string)] = true; return true })
			x.mu.Lock()
			x.resetBackoff(skip)
			x.mu.Unlock()
		}
	}
	resetBackoff()
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			fail(err)
			break
		}
		if err := r.settle(ctx); err != nil {
			fail(err)
			break
		}
		if err := r.waitRetryAfter(); err != nil {
			fail(err)
			break
		}
		sum, err := r.outbox.Summary(ctx)
		if err != nil {
			fail(err)
			break
		}
		if sum.Queued == 0 || !all && sum.Oldest.After(start) {
			break // everything stored before the call is gone
		}
		leases, next, err := r.outbox.Claim(ctx, r.cfg.now(), r.cfg.concurrency, r.cfg.maxPerRequest)
		if err != nil {
			fail(err)
			break
		}
		if len(leases) == 0 {
			r.mu.Lock()
			failed, lastErr := r.failCount != failBase, r.lastFail
			r.mu.Unlock()
			if (failed || firstErr != nil) && len(r.sem) == 0 {
				// What is left failed (here or in the background sender)
				// and waits for its backoff.
				fail(lastErr)
				break
			}
			// The background sender holds the pairs (its sends hold
			// r.sem), or they are in the pause after its request, or in
			// the backoff of a failure it met after this call began:
			// skip what can be skipped, and wait for the rest.
			resetBackoff()
			wait := 5 * time.Millisecond
			if !next.IsZero() {
				wait = min(max(next.Sub(r.cfg.now()), time.Millisecond), 50*time.Millisecond)
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		var (
			mu      sync.Mutex
			errs    []error
			wg      sync.WaitGroup
			nothing atomic.Int32
		)
		for _, l := range leases {
			wg.Go(func() {
				err := r.send(ctx, l, true)
				if errors.Is(err, errNothing) {
					nothing.Add(1)
				} else if err != nil {
					failedHere.Store(pairKey(l.CustomerID, l.FeatureID), true)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		r.kick()
		stop := len(errs) == 0 && nothing.Load() == int32(len(leases)) // no progress possible
		for _, err := range errs {
			fail(err)
			// kelviq did not answer: every pair would fail alike, each
			// after up to a request timeout (30 s), and a Close without
			// a deadline would wait for them all.
			stop = stop || noAnswer(err)
		}
		if stop {
			break
		}
	}
	if err := ctx.Err(); err != nil && firstErr == nil {
		firstErr = err
	}
	left := r.queued()
	if left == 0 {
		// Nothing is stored, so a background send still holding r.sem is
		// past its outbox change and only counting it: wait for that, so
		// that Stats after Flush agrees with the outbox.
		for len(r.sem) > 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
	}
	return left, firstErr
}

// queued is the number of reports waiting, as the outbox says.
func (r *Reporter) queued() int {
	ctx, cancel := settleContext()
	defer cancel()
	s, err := r.outbox.Summary(ctx)
	if err != nil {
		return int(r.cachedSummary().Queued)
	}
	return int(s.Queued)
}

// noAnswer reports whether err is a failed send that kelviq did not
// answer: a network failure or a timeout, not a status or a store
// failure. (The caller's context ending counts too: no pair can be sent.)
func noAnswer(err error) bool {
	var apiErr *kelviq.Error
	var storeErr *storeError
	return !errors.As(err, &apiErr) && !errors.As(err, &storeErr) && !errors.Is(err, errStoppedInFlight)
}

// waitRetryAfter returns an error while kelviq's Retry-After is running.
func (r *Reporter) waitRetryAfter() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until := r.retryAfterUntil; until > r.cfg.now().UnixNano() {
		err := fmt.Errorf("usage: kelviq asked to wait until %s (Retry-After)", time.Unix(0, until).UTC().Format(time.RFC3339))
		if r.lastErr != nil {
			err = fmt.Errorf("%w: %w", err, r.lastErr)
		}
		return err
	}
	return nil
}
