package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// pairState is the sender's view of one (customer, feature).
type pairState struct {
	key string
	// seqs are the pair's stored records, oldest first; guarded by
	// Reporter.mu. The writer appends after each commit; only the holder
	// of busy removes, from the front.
	seqs []uint64
	// busy is held (a value in it) by whoever sends the pair, so a pair
	// has at most one request in flight and its delete is committed
	// before it is sent again.
	busy chan struct{}

	// The fields below belong to the holder of busy.
	notBefore int64 // Unix nanoseconds: the pair's backoff
	failures  int
	// delivered is the number of records at the front of seqs that
	// kelviq took but whose delete failed: it is retried before anything
	// is sent again.
	delivered int
	// undelivered is a move to the dead letters that failed in the
	// store: it too is retried before anything is sent again, so that an
	// uncertain DELTA is not sent twice under AtMostOnce.
	undelivered *deadMove
}

// deadMove is a call of give to make again.
type deadMove struct {
	recs      []record
	uncertain bool
	cause     error
}

// pair returns the state of pair k, made on first use; r.mu is held.
func (r *Reporter) pair(k string) *pairState {
	p := r.pairs[k]
	if p == nil {
		p = &pairState{key: k, busy: make(chan struct{}, 1)}
		r.pairs[k] = p
	}
	return p
}

// sender is the background loop: it starts a send for every pair that has
// records and whose backoff is over, at most cfg.concurrency at once, and
// sleeps until new records, a finished send, or the end of a backoff.
func (r *Reporter) sender() {
	defer close(r.senderDone)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-r.sendCtx.Done():
			return
		case <-r.wake:
		case <-timer.C:
		}
		next := r.dispatch()
		timer.Reset(max(time.Duration(next-r.cfg.now().UnixNano()), time.Millisecond))
	}
}

// dispatch starts the sends that may start now and returns when it should
// run again (Unix nanoseconds).
func (r *Reporter) dispatch() (next int64) {
	now := r.cfg.now().UnixNano()
	next = now + int64(time.Hour)
	r.mu.Lock()
	defer r.mu.Unlock()
	if until := max(r.pauseUntil, r.retryAfterUntil); until > now {
		return until
	}
	for k, p := range r.pairs {
		select {
		case p.busy <- struct{}{}:
		default:
			continue // in flight; its end wakes the sender
		}
		if len(p.seqs) == 0 {
			// Kept after its last request only for the pause: released
			// once the pause is over, so memory follows active pairs.
			if p.notBefore > now {
				next = min(next, p.notBefore)
			} else if p.delivered == 0 && p.undelivered == nil {
				delete(r.pairs, k)
			}
			<-p.busy
			continue
		}
		if p.notBefore > now {
			next = min(next, p.notBefore)
			<-p.busy
			continue
		}
		select {
		case r.sem <- struct{}{}:
		default:
			<-p.busy
			return now + int64(time.Hour) // a finishing send wakes the sender
		}
		r.inflight.Add(1)
		go func() {
			defer r.inflight.Done()
			_ = r.send(r.sendCtx, p)
			<-p.busy
			<-r.sem
			r.kick()
		}()
	}
	return next
}

// errNothing is send's answer for a pair with nothing stored.
var errNothing = errors.New("usage: nothing to send")

// send makes one request for pair p's oldest records; the caller holds
// p.busy. It returns nil when kelviq took them, errNothing when there was
// nothing to send, and else the failure.
func (r *Reporter) send(ctx context.Context, p *pairState) error {
	if p.delivered > 0 {
		if err := r.remove(r.front(p, p.delivered)); err != nil {
			return r.storeFailed("deleting sent reports", p, err)
		}
		r.dropFront(p, p.delivered)
		p.delivered = 0
	}
	if d := p.undelivered; d != nil {
		p.undelivered = nil
		return r.give(p, d.recs, d.uncertain, d.cause)
	}
	seqs := r.front(p, r.cfg.maxPerRequest)
	if len(seqs) == 0 {
		return errNothing
	}
	recs, err := r.store.get(seqs)
	if err != nil {
		return r.storeFailed("reading reports", p, err)
	}
	customerID, featureID, _ := splitPairKey(p.key) // checked when stored and loaded
	m := coalesce(recs)
	recs = recs[:m.n]
	body := api.ReportUsageRequest{
		CustomerID: customerID,
		FeatureID:  featureID,
		Value:      m.value,
		Behaviour:  api.ReportUsageRequestBehaviourDELTA,
	}
	if m.set {
		body.Behaviour = api.ReportUsageRequestBehaviourSET
	}
	if err := ctx.Err(); err != nil {
		return err // nothing sent: not a failure of the request
	}
	// Under AtMostOnce a crash while a DELTA is in flight must not lead the
	// next start to send it again: mark it durably first (settleInFlight).
	marked := !m.set && r.cfg.delivery == AtMostOnce
	if marked {
		if err := r.markSending(seqs[:m.n]); err != nil {
			return r.storeFailed("marking reports as in flight", p, err)
		}
		if err := ctx.Err(); err != nil {
			// ctx ended during the mark's sync (a Close's deadline, say):
			// a request made now fails at once, and would count as
			// ambiguous although nothing was sent.
			r.unmark(seqs[:m.n])
			return err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, r.cfg.requestTimeout)
	resp, err := r.client.ReportUsage(rctx, body)
	if err == nil {
		discard(resp)
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			err = fmt.Errorf("usage: kelviq answered %s", resp.Status)
		}
	}
	cancel()
	// A redirect that would turn the POST into a GET is not followed by
	// the client (kelviq's redirect policy): it comes back as a 3xx
	// *kelviq.Error and is refused, never taken as delivered.
	switch classify(err) {
	case delivered:
		if err != nil {
			r.log.Warn("usage: kelviq took the report but its answer failed the client's checks", "customer", customerID, "feature", featureID, "error", err)
		}
		r.succeeded(p, m)
		if derr := r.remove(seqs[:m.n]); derr != nil {
			p.delivered = m.n // deleted before anything is sent again
			return r.storeFailed("deleting sent reports", p, derr)
		}
		r.dropFront(p, m.n)
		return nil
	case refused:
		msg := "usage: kelviq refused reports; moved to the dead-letter bucket"
		if errors.Is(err, kelviq.ErrUnauthorized) || errors.Is(err, kelviq.ErrForbidden) {
			// Every pair will meet the same answer: say what to fix.
			msg = "usage: kelviq refused the client's server key (401/403: wrong, revoked, other environment or not allowed); reports moved to the dead-letter bucket"
		}
		r.log.Error(msg, "customer", customerID, "feature", featureID, "reports", m.n, "error", err)
		return r.give(p, recs, false, err)
	case notApplied:
		if marked {
			r.unmark(seqs[:m.n])
		}
	case ambiguous:
		if !m.set && r.cfg.delivery == AtMostOnce {
			err = fmt.Errorf("%w (AtMostOnce): %w", ErrUncertain, err)
			r.log.Error("usage: DELTA reports may or may not have reached kelviq; moved to the dead-letter bucket (AtMostOnce)", "customer", customerID, "feature", featureID, "reports", m.n, "error", err)
			return r.give(p, recs, true, err)
		}
	}
	r.retryLater(p, m, err)
	return err
}

// unmark removes the in-flight marks of records kelviq did not get. Left
// marked, a crash would dead-letter reports kelviq never saw: not worse
// than AtMostOnce allows, so a failure only logs.
func (r *Reporter) unmark(seqs []uint64) {
	if err := r.unmarkSending(seqs); err != nil {
		r.log.Error("usage: outbox storage failed while sending", "error", &storeError{fmt.Errorf("unmarking reports: %w", err)})
	}
}

// succeeded resets p's backoff and counts its delivered reports. The
// background sender leaves the pair alone for cfg.pairInterval, so that
// under a steady load a pair's reports are merged into a few requests a
// second instead of one request each (Flush does not wait).
func (r *Reporter) succeeded(p *pairState, m merged) {
	p.failures = 0
	p.notBefore = r.cfg.now().UnixNano() + int64(r.cfg.pairInterval)
	r.stats.sent.Add(int64(m.n))
	r.stats.coalesced.Add(int64(m.n - 1))
	r.mu.Lock()
	r.pauseUntil = 0
	r.lastErr = nil
	r.mu.Unlock()
}

// retryLater schedules p's next attempt after a failure that may pass.
func (r *Reporter) retryLater(p *pairState, m merged, err error) {
	r.stats.retried.Add(int64(m.n))
	p.failures++
	now := r.cfg.now().UnixNano()
	wait := int64(r.backoff(p.failures))
	var retryAfter time.Duration
	var apiErr *kelviq.Error
	if errors.As(err, &apiErr) {
		// Capped, so that a wrong header (kelviq's client reads up to
		// 31 years) cannot stop delivery until the next restart.
		retryAfter = min(apiErr.RetryAfter, r.cfg.maxRetryAfter)
	}
	p.notBefore = now + max(wait, int64(retryAfter))
	r.mu.Lock()
	r.lastErr = err
	if retryAfter > 0 {
		// The server asks every request to wait, not just this pair's.
		r.retryAfterUntil = max(r.retryAfterUntil, now+int64(retryAfter))
	}
	if apiErr == nil {
		// kelviq is unreachable: every pair would fail alike.
		r.pauseUntil = max(r.pauseUntil, now+wait)
	}
	r.mu.Unlock()
	c, f, _ := splitPairKey(p.key)
	r.log.Warn("usage: sending reports failed; will retry", "customer", c, "feature", f, "reports", m.n,
		"attempt", p.failures, "wait", time.Duration(p.notBefore-now), "error", err)
}

// backoff is a random wait in [0, min(maxDelay, baseDelay·2^(failures-1))]
// ("full jitter": many processes recovering together do not send in step).
func (r *Reporter) backoff(failures int) time.Duration {
	d := r.cfg.baseDelay
	for i := 1; i < failures && d < r.cfg.maxDelay; i++ {
		d *= 2
	}
	d = min(d, r.cfg.maxDelay)
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// give moves recs to the dead-letter bucket and tells WithOnDropped about
// each, once: the callback runs only after the move is stored.
func (r *Reporter) give(p *pairState, recs []record, uncertain bool, cause error) error {
	if err := r.store.deadLetter(recs, cause.Error()); err != nil {
		p.undelivered = &deadMove{recs, uncertain, cause}
		return r.storeFailed("moving reports to the dead-letter bucket", p, err)
	}
	r.dropFront(p, len(recs))
	if uncertain {
		r.stats.uncertain.Add(int64(len(recs)))
	} else {
		r.stats.dropped.Add(int64(len(recs)))
	}
	p.failures, p.notBefore = 0, 0
	if r.cfg.onDropped != nil {
		for _, rec := range recs {
			r.cfg.onDropped(rec.report(), cause)
		}
	}
	return cause
}

// storeFailed logs a failure of the store during a send and backs the pair off.
func (r *Reporter) storeFailed(what string, p *pairState, err error) error {
	err = &storeError{fmt.Errorf("%s: %w", what, err)}
	r.log.Error("usage: outbox storage failed while sending", "error", err)
	p.failures++
	p.notBefore = r.cfg.now().UnixNano() + int64(r.backoff(p.failures))
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
	return err
}

// front returns a copy of the first n (at most) of p's seqs.
func (r *Reporter) front(p *pairState, n int) []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(p.seqs[:min(n, len(p.seqs))])
}

// dropFront forgets the first n of p's seqs, removed from the store. A
// pair left empty keeps its state, and with it its not-before time, until
// the pause after its request is over (dispatch then releases it): were
// it forgotten at once, the next report would be sent at once, and under
// a steady load every report would go in a request of its own.
func (r *Reporter) dropFront(p *pairState, n int) {
	r.mu.Lock()
	p.seqs = p.seqs[n:]
	r.mu.Unlock()
}

// discard closes a response whose body the sender does not need.
func discard(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		// A short read lets the connection be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
	}
}
