package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// pairState is the sender's view of one (customer, feature).
type pairState struct {
	key string
	// count is the number of stored records, as far as the sender knows;
	// guarded by Reporter.mu. It can lag behind the store for a moment.
	count int
	// busy is held (a value in it) by whoever sends the pair, so a pair
	// has at most one request in flight and its delete is committed
	// before it is sent again.
	busy chan struct{}

	// The fields below belong to the holder of busy.
	notBefore int64 // Unix nanoseconds: the pair's backoff
	failures  int
	// deleteUpTo is set when kelviq took the records up to it but their
	// delete failed: it is retried before anything is sent again.
	deleteUpTo uint64
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
	for _, p := range r.pairs {
		if p.count <= 0 {
			continue
		}
		select {
		case p.busy <- struct{}{}:
		default:
			continue // in flight; its end wakes the sender
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
	if p.deleteUpTo != 0 {
		n, err := r.store.remove(p.key, p.deleteUpTo)
		if err != nil {
			return r.storeFailed("deleting sent reports", p, err)
		}
		p.deleteUpTo = 0
		r.addCount(p, -n)
	}
	recs, corrupt, err := r.store.read(p.key, r.cfg.maxPerRequest)
	if err != nil {
		return r.storeFailed("reading reports", p, err)
	}
	if corrupt != nil {
		r.log.Error("usage: moving an unreadable record to the dead-letter bucket", "key", fmt.Sprintf("%x", corrupt))
		if err := r.store.deadLetter(p.key, nil, corrupt, errCorrupt.Error()); err != nil {
			return r.storeFailed("moving an unreadable record", p, err)
		}
		r.addCount(p, -1)
		return errCorrupt
	}
	if len(recs) == 0 {
		r.mu.Lock()
		p.count = 0 // the store is the truth; the count self-heals
		r.mu.Unlock()
		return errNothing
	}
	customerID, featureID, ok := splitPairKey(p.key)
	if !ok {
		r.log.Error("usage: moving records with a malformed key to the dead-letter bucket", "key", fmt.Sprintf("%x", p.key))
		return r.give(p, recs, false, fmt.Errorf("%w: malformed customer and feature key", errCorrupt))
	}
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
	rctx, cancel := context.WithTimeout(ctx, r.cfg.requestTimeout)
	resp, err := r.client.ReportUsage(rctx, body)
	if err == nil {
		discard(resp)
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			err = fmt.Errorf("usage: kelviq answered %s", resp.Status)
		}
	}
	cancel()
	switch classify(err) {
	case delivered:
		if err != nil {
			r.log.Warn("usage: kelviq took the report but its answer failed the client's checks", "customer", customerID, "feature", featureID, "error", err)
		}
		r.succeeded(p, m)
		n, derr := r.store.remove(p.key, m.last)
		if derr != nil {
			p.deleteUpTo = m.last // before anything is sent again
			return r.storeFailed("deleting sent reports", p, derr)
		}
		r.addCount(p, -n)
		return nil
	case refused:
		r.log.Error("usage: kelviq refused reports; moved to the dead-letter bucket", "customer", customerID, "feature", featureID, "reports", m.n, "error", err)
		return r.give(p, recs, false, err)
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

// succeeded resets p's backoff and counts its delivered reports.
func (r *Reporter) succeeded(p *pairState, m merged) {
	p.failures, p.notBefore = 0, 0
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
		retryAfter = apiErr.RetryAfter
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
	if err := r.store.deadLetter(p.key, recs, nil, cause.Error()); err != nil {
		return r.storeFailed("moving reports to the dead-letter bucket", p, err)
	}
	r.addCount(p, -len(recs))
	if uncertain {
		r.stats.uncertain.Add(int64(len(recs)))
	} else {
		r.stats.dropped.Add(int64(len(recs)))
	}
	p.failures, p.notBefore = 0, 0
	if r.cfg.onDropped != nil {
		for _, rec := range recs {
			r.cfg.onDropped(rec.report(p.key), cause)
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

func (r *Reporter) addCount(p *pairState, n int) {
	r.mu.Lock()
	p.count += n
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
