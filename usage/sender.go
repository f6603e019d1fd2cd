package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// sender is the background loop: it claims the outbox's due pairs, at
// most cfg.concurrency in flight at once, sends each lease in its own
// goroutine, and sleeps until new reports, a finished send, or the time
// Claim said to come back.
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
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(r.dispatch(), time.Millisecond))
	}
}

// dispatch starts the sends that may start now and returns how long to
// sleep before the next round.
func (r *Reporter) dispatch() time.Duration {
	ctx := r.sendCtx
	r.refreshSummary(ctx)
	if r.settle(ctx) != nil {
		return r.cfg.baseDelay
	}
	now := r.cfg.now()
	if until := r.pausedUntil(); until > now.UnixNano() {
		return time.Duration(until - now.UnixNano())
	}
	if r.cfg.senderOff {
		return time.Hour
	}
	free := 0
take:
	for free < cap(r.sem) {
		select {
		case r.sem <- struct{}{}:
			free++
		default:
			break take
		}
	}
	if free == 0 {
		return time.Hour // a finishing send wakes the sender
	}
	leases, next, err := r.outbox.Claim(ctx, now, free, r.cfg.maxPerRequest)
	for range free - len(leases) {
		<-r.sem
	}
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("usage: claiming reports from the outbox failed; will retry", "error", err)
		}
		return r.backoff(1) + r.cfg.baseDelay/2
	}
	for _, l := range leases {
		r.inflight.Add(1)
		go func() {
			defer r.inflight.Done()
			_ = r.send(ctx, l, false)
			<-r.sem
			r.kick()
		}()
	}
	if len(leases) == free {
		return time.Hour // more may be due: a finishing send wakes the sender
	}
	if next.IsZero() {
		return time.Hour
	}
	return next.Sub(r.cfg.now())
}

// pausedUntil is the end of the sender's own pause (Unix nanoseconds).
func (r *Reporter) pausedUntil() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return max(r.pauseUntil, r.retryAfterUntil)
}

// errStoppedInFlight is why records claimed marked in flight are uncertain.
var errStoppedInFlight = errors.New("the Reporter that sent them stopped while their request was in flight")

// errNothing is send's answer for a lease with no records.
var errNothing = errors.New("usage: nothing to send")

// leaseMargin is how long before its lease's expiry a request must have
// ended, so that its settling (Done, DeadLetter) is made while the lease
// holds and no other Reporter sends the pair meanwhile.
func leaseMargin(left time.Duration) time.Duration { return min(5*time.Second, left/5) }

// send makes one request for l's records and ends the lease. It returns
// nil when kelviq took them, errNothing when there was nothing to send,
// and else the failure. A flush's send (flushing) leaves the pair due at
// once after a success; the background sender's leaves it alone for
// cfg.pairInterval, so that under a steady load a pair's reports are
// merged into a few requests a second instead of one request each.
func (r *Reporter) send(ctx context.Context, l *Lease, flushing bool) error {
	recs := l.Records
	if len(recs) == 0 {
		_ = r.done(ctx, l, 0, time.Time{})
		return errNothing
	}
	key := pairKey(l.CustomerID, l.FeatureID)
	// The records marked in flight (the oldest) were in a request when
	// the Reporter that sent them stopped, this process's or another's:
	// it may have reached kelviq. Under AtMostOnce a DELTA among them is
	// not sent again (a SET is: twice has the effect of once).
	if k := sendingPrefix(recs); k > 0 && r.cfg.delivery == AtMostOnce && !coalesce(toRecords(recs[:k])).set {
		err := fmt.Errorf("%w (AtMostOnce): %w", ErrUncertain, errStoppedInFlight)
		r.log.Error("usage: DELTA reports may or may not have reached kelviq before their Reporter stopped; moved to the dead-letter bucket (AtMostOnce)",
			"customer", l.CustomerID, "feature", l.FeatureID, "reports", k)
		return r.deadLetter(ctx, l, recs[:k], DeadLetter{Reason: ReasonUncertain}, true, err)
	}
	m := coalesce(toRecords(recs))
	body := api.ReportUsageRequest{
		CustomerID: l.CustomerID,
		FeatureID:  l.FeatureID,
		Value:      m.value,
		Behaviour:  api.ReportUsageRequestBehaviourDELTA,
	}
	if m.set {
		body.Behaviour = api.ReportUsageRequestBehaviourSET
	}
	if err := ctx.Err(); err != nil {
		_ = r.done(ctx, l, 0, time.Time{})
		return err // nothing sent: not a failure of the request
	}
	// Under AtMostOnce a crash while a DELTA is in flight must not lead the
	// next claimer to send it again: mark it durably first.
	marked := !m.set && r.cfg.delivery == AtMostOnce
	if marked {
		if err := r.outbox.Mark(ctx, l, m.n); err != nil {
			err = r.storeFailed("marking reports as in flight", err)
			_ = r.done(ctx, l, 0, r.cfg.now().Add(r.backoff(1)))
			return err
		}
		if err := ctx.Err(); err != nil {
			// ctx ended during the mark's sync (a Close's deadline, say):
			// a request made now fails at once, and would count as
			// ambiguous although nothing was sent.
			r.unmark(l, m.n)
			_ = r.done(ctx, l, 0, time.Time{})
			return err
		}
	}
	// The request ends before the lease does, with a margin for settling.
	left := l.Expires.Sub(r.cfg.now())
	timeout := min(r.cfg.requestTimeout, left-leaseMargin(left))
	if timeout <= 0 {
		if marked {
			r.unmark(l, m.n)
		}
		// Not due at once: an outbox answering slower than its leases
		// last would be claimed again and again without a pause.
		_ = r.done(ctx, l, 0, r.cfg.now().Add(r.backoff(1)+r.cfg.baseDelay/2))
		return fmt.Errorf("usage: the lease on %s/%s ends too soon to send", l.CustomerID, l.FeatureID)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
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
			r.log.Warn("usage: kelviq took the report but its answer failed the client's checks", "customer", l.CustomerID, "feature", l.FeatureID, "error", err)
		}
		r.succeeded(key, m)
		notBefore := r.cfg.now().Add(r.cfg.pairInterval)
		if flushing {
			notBefore = time.Time{}
		}
		return r.done(ctx, l, m.n, notBefore)
	case refused:
		msg := "usage: kelviq refused reports; moved to the dead-letter bucket"
		if errors.Is(err, kelviq.ErrUnauthorized) || errors.Is(err, kelviq.ErrForbidden) {
			// Every pair will meet the same answer: say what to fix.
			msg = "usage: kelviq refused the client's server key (401/403: wrong, revoked, other environment or not allowed); reports moved to the dead-letter bucket"
		}
		r.log.Error(msg, "customer", l.CustomerID, "feature", l.FeatureID, "reports", m.n, "error", err)
		return r.deadLetter(ctx, l, recs[:m.n], refusal(err), false, err)
	case notApplied:
		if marked {
			r.unmark(l, m.n)
		}
	case ambiguous:
		if !m.set && r.cfg.delivery == AtMostOnce {
			err = fmt.Errorf("%w (AtMostOnce): %w", ErrUncertain, err)
			r.log.Error("usage: DELTA reports may or may not have reached kelviq; moved to the dead-letter bucket (AtMostOnce)", "customer", l.CustomerID, "feature", l.FeatureID, "reports", m.n, "error", err)
			return r.deadLetter(ctx, l, recs[:m.n], DeadLetter{Reason: ReasonUncertain}, true, err)
		}
	}
	notBefore := r.retryLater(key, l, m, err)
	if derr := r.done(ctx, l, 0, notBefore); derr != nil {
		return errors.Join(err, derr)
	}
	return err
}

// toRecords returns what coalesce reads of recs.
func toRecords(recs []Record) []record {
	out := make([]record, len(recs))
	for i, r := range recs {
		out[i] = record{value: int64(r.Report.Value), set: r.Report.Behaviour == api.ReportUsageRequestBehaviourSET}
	}
	return out
}

// sendingPrefix is the number of leading records marked in flight.
func sendingPrefix(recs []Record) int {
	k := 0
	for k < len(recs) && recs[k].Sending {
		k++
	}
	return k
}

// refusal is the dead letter of a refused request: its status as reason.
func refusal(err error) DeadLetter {
	var apiErr *kelviq.Error
	if !errors.As(err, &apiErr) {
		return DeadLetter{Reason: "refused"}
	}
	dl := DeadLetter{Reason: strconv.Itoa(apiErr.StatusCode), Status: apiErr.StatusCode}
	if apiErr.StatusCode >= 300 && apiErr.StatusCode < 400 {
		dl.Reason = ReasonRedirect
	}
	return dl
}

// unmark removes the in-flight marks of records kelviq did not get. Left
// marked, a crash would dead-letter reports kelviq never saw: not worse
// than AtMostOnce allows, so a failure only logs.
func (r *Reporter) unmark(l *Lease, n int) {
	ctx, cancel := settleContext()
	defer cancel()
	if err := r.outbox.Unmark(ctx, l, n); err != nil {
		r.log.Error("usage: outbox storage failed while sending", "error", fmt.Errorf("unmarking reports: %w", err))
	}
}

// settleContext bounds a write that settles a request already made: it
// must be made even after the sender's context ended (Close), or the
// next start would send delivered reports again.
func settleContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// settlement is a Done or a DeadLetter that failed in the outbox: it is
// made again before anything else is sent (its lease still holds the
// pair), and at Close.
type settlement struct {
	l         *Lease
	delivered int
	notBefore time.Time
	// A dead-letter move when dead is set: the records, and what to say.
	dead      *DeadLetter
	recs      []Record
	uncertain bool
	cause     error
}

// done ends l, and keeps the end for later when the outbox fails it.
func (r *Reporter) done(_ context.Context, l *Lease, delivered int, notBefore time.Time) error {
	return r.apply(&settlement{l: l, delivered: delivered, notBefore: notBefore})
}

// deadLetter moves recs (l's first records) to the dead letters and tells
// WithOnDropped about each, once the move is stored. It returns cause.
func (r *Reporter) deadLetter(_ context.Context, l *Lease, recs []Record, dl DeadLetter, uncertain bool, cause error) error {
	dl.Error = cause.Error()
	return r.apply(&settlement{l: l, dead: &dl, recs: recs, uncertain: uncertain, cause: cause})
}

// apply makes s; a failure keeps it for settle.
func (r *Reporter) apply(s *settlement) error {
	ctx, cancel := settleContext()
	defer cancel()
	var err error
	if s.dead != nil {
		s.dead.At = r.cfg.now()
		err = r.outbox.DeadLetter(ctx, s.l, len(s.recs), *s.dead, s.notBefore)
	} else {
		err = r.outbox.Done(ctx, s.l, s.delivered, s.notBefore)
	}
	if errors.Is(err, ErrLeaseLost) {
		// The change was made; another claim of the pair may have sent
		// its records meanwhile (the request outlived the lease).
		r.log.Warn("usage: a lease expired before its request was settled", "customer", s.l.CustomerID, "feature", s.l.FeatureID)
		err = nil
	}
	if err != nil {
		r.mu.Lock()
		r.unsettled = append(r.unsettled, s)
		r.mu.Unlock()
		what := "deleting sent reports"
		if s.dead != nil {
			what = "moving reports to the dead-letter bucket"
		}
		return r.storeFailed(what, err)
	}
	if s.dead != nil {
		r.dropped(s)
		return s.cause
	}
	return nil
}

// dropped counts a stored dead-letter move and calls WithOnDropped.
func (r *Reporter) dropped(s *settlement) {
	if s.uncertain {
		r.stats.uncertain.Add(int64(len(s.recs)))
	} else {
		r.stats.dropped.Add(int64(len(s.recs)))
	}
	r.mu.Lock()
	delete(r.failures, pairKey(s.l.CustomerID, s.l.FeatureID))
	r.mu.Unlock()
	if r.cfg.onDropped != nil {
		for _, rec := range s.recs {
			r.cfg.onDropped(rec.Report, s.cause)
		}
	}
}

// settle makes again the settlements that failed; it returns the first
// failure (the rest stay kept).
func (r *Reporter) settle(context.Context) error {
	r.mu.Lock()
	todo := r.unsettled
	r.unsettled = nil
	r.mu.Unlock()
	for i, s := range todo {
		if err := r.apply(s); err != nil && !errors.Is(err, s.cause) {
			r.mu.Lock()
			r.unsettled = append(r.unsettled, todo[i+1:]...)
			r.mu.Unlock()
			return err
		}
	}
	return nil
}

// succeeded resets the pair's backoff and counts its delivered reports.
func (r *Reporter) succeeded(key string, m merged) {
	r.stats.sent.Add(int64(m.n))
	r.stats.coalesced.Add(int64(m.n - 1))
	r.mu.Lock()
	delete(r.failures, key)
	r.pauseUntil = 0
	r.lastErr = nil
	r.mu.Unlock()
}

// retryLater returns when the pair may be tried again after a failure
// that may pass.
func (r *Reporter) retryLater(key string, l *Lease, m merged, err error) time.Time {
	r.stats.retried.Add(int64(m.n))
	now := r.cfg.now()
	r.mu.Lock()
	r.failures[key]++
	failures := r.failures[key]
	r.mu.Unlock()
	wait := r.backoff(failures)
	var retryAfter time.Duration
	var apiErr *kelviq.Error
	if errors.As(err, &apiErr) {
		// Capped, so that a wrong header (kelviq's client reads up to
		// 31 years) cannot stop delivery until the next restart.
		retryAfter = min(apiErr.RetryAfter, r.cfg.maxRetryAfter)
	}
	notBefore := now.Add(max(wait, retryAfter))
	r.mu.Lock()
	r.lastErr, r.lastFail = err, err
	r.failCount++
	if retryAfter > 0 {
		// The server asks every request to wait, not just this pair's.
		r.retryAfterUntil = max(r.retryAfterUntil, now.Add(retryAfter).UnixNano())
	}
	if apiErr == nil {
		// kelviq is unreachable: every pair would fail alike.
		r.pauseUntil = max(r.pauseUntil, now.Add(wait).UnixNano())
	}
	r.mu.Unlock()
	r.log.Warn("usage: sending reports failed; will retry", "customer", l.CustomerID, "feature", l.FeatureID, "reports", m.n,
		"attempt", failures, "wait", notBefore.Sub(now), "error", err)
	return notBefore
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

// storeFailed logs a failure of the outbox during a send.
func (r *Reporter) storeFailed(what string, err error) error {
	err = &storeError{fmt.Errorf("%s: %w", what, err)}
	r.log.Error("usage: outbox storage failed while sending", "error", err)
	r.mu.Lock()
	r.lastErr, r.lastFail = err, err
	r.failCount++
	r.mu.Unlock()
	return err
}

// storeError is a failure of the outbox's storage during a send.
type storeError struct{ err error }

func (e *storeError) Error() string { return "usage: outbox storage failed: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// discard closes a response whose body the sender does not need.
func discard(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		// A short read lets the connection be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
	}
}
