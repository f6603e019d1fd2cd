package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// ErrClosed is returned by Report, Flush and Close after Close.
var ErrClosed = errors.New("usage: the Reporter is closed")

// ErrUncertain is matched (errors.Is) by the error the WithOnDropped
// callback receives for a DELTA dead-lettered under AtMostOnce: its request
// may or may not have reached kelviq.
var ErrUncertain = errors.New("usage: the report may or may not have reached kelviq")

// Reporter stores usage reports durably and sends them to kelviq in the
// background. It is safe for concurrent use; make one per outbox and
// share it.
type Reporter struct {
	client *kelviq.Client
	cfg    config
	outbox Outbox
	// ownOutbox says NewReporter opened the outbox (and Close closes it).
	ownOutbox bool
	// local is the index of a file or memory outbox: Stats reads its
	// Summary directly, Flush skips its backoffs.
	local *localIndex
	log   *slog.Logger

	// closeMu is held for reading by every Report in progress and for
	// writing by Close, so Close waits for them and none starts after.
	closeMu sync.RWMutex
	closed  bool
	// closeDone is closed when the first Close has returned.
	closeDone chan struct{}

	writes      chan *writeReq
	writerDone  chan struct{}
	wake        chan struct{} // the sender has work (capacity 1)
	stopSending context.CancelFunc
	sendCtx     context.Context
	senderDone  chan struct{}
	sem         chan struct{} // requests in flight (capacity cfg.concurrency)
	inflight    sync.WaitGroup

	mu sync.Mutex // guards the fields below
	// pauseUntil is the sender's own backoff after a network failure,
	// skipped by Flush; retryAfterUntil is the server's Retry-After,
	// which Flush honours too.
	pauseUntil, retryAfterUntil int64 // Unix nanoseconds
	lastErr                     error // the last send failure, for Flush
	failCount                   int64 // failures so far, for Flush
	lastFail                    error // the last failure, kept after a success
	// failures counts the consecutive failures of the pairs failing now
	// (their backoff); a success or a dead letter forgets the pair.
	failures  map[string]int
	unsettled []*settlement
	// summary is the outbox's last Summary, for Stats on an outbox that
	// is not local (Stats takes no ctx and must not wait for a network).
	summary   Summary
	summaryAt time.Time

	stats counters
	// appends counts the group commit's Appends, for benchmarks.
	appends atomic.Int64
}

// counters are Stats as atomics.
type counters struct {
	stored, sent, coalesced, retried, dropped, uncertain atomic.Int64
}

// Stats are the Reporter's counters since NewReporter. Every count is of
// original reports, as passed to Report: a request that merged ten reports
// counts ten.
type Stats struct {
	// Stored is the number of reports Report stored.
	Stored int64
	// Sent is the number of reports kelviq answered 2xx for.
	Sent int64
	// Coalesced is the number of reports sent inside another report's
	// request: a request that merged n reports adds n-1.
	Coalesced int64
	// Retried is the number of reports whose request failed in a way that
	// may pass (network, 408, 429, 5xx) and is tried again; a report
	// counts once per failed attempt.
	Retried int64
	// Dropped is the number of reports moved to the dead-letter bucket
	// because kelviq refused them (a 4xx other than 408 and 429, or a
	// redirect that turned the POST into a GET).
	Dropped int64
	// Uncertain is the number of DELTA reports moved to the dead-letter
	// bucket under AtMostOnce because their request may or may not have
	// reached kelviq (those in flight at a crash, found when their pair
	// is claimed again, included).
	Uncertain int64
	// Queued is the number of reports stored and not yet sent or
	// dead-lettered, those found in the file at start included (not
	// those of a newer format, which this version leaves alone).
	Queued int64
	// OldestQueued is the StoredAt of the oldest queued report (zero when
	// none is queued): its age is how far delivery is behind.
	OldestQueued time.Time
	// DeadLetters is the number of reports in the dead-letter bucket, from
	// this run and earlier ones.
	DeadLetters int64
}

// DeadLetter is a report the sender gave up on, as kept in the dead-letter
// bucket.
type DeadLetter struct {
	// ID identifies the dead letter within its outbox; opaque.
	ID     string
	Report Report
	// Reason is why the sender gave up, as a short class that filters
	// match: the HTTP status kelviq answered ("401", "422"), "redirect",
	// "uncertain" (an AtMostOnce DELTA that may have reached kelviq), or
	// "unreadable" (a stored record that could not be decoded).
	Reason string
	// Status is the HTTP status kelviq answered, 0 when there was none.
	Status int
	// Error is the error that made the sender give up, as text.
	Error string
	// At is when the report was dead-lettered.
	At time.Time
}

// NewReporter opens the outbox (WithPath's file, or memory with
// WithMemory; or takes WithOutbox's), and starts sending what it holds,
// from an earlier run too, to kelviq with client.
//
// The Reporter owns the retries of usage reports: kelviq's client never
// sends a POST twice once any byte of it may have left (it retries only a
// connection that could not be made), which suits the Reporter, and a
// Retry-After kelviq answers is honoured here. A client made with
// kelviq.WithRetries(0) leaves every retry to the Reporter.
func NewReporter(client *kelviq.Client, opts ...Option) (*Reporter, error) {
	if client == nil {
		return nil, errors.New("usage: NewReporter needs a *kelviq.Client, got nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &Reporter{
		client:     client,
		cfg:        cfg,
		log:        cfg.logger,
		writes:     make(chan *writeReq, 1024),
		writerDone: make(chan struct{}),
		wake:       make(chan struct{}, 1),
		senderDone: make(chan struct{}),
		closeDone:  make(chan struct{}),
		sem:        make(chan struct{}, cfg.concurrency),
		failures:   map[string]int{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.outbox != nil:
		r.outbox = cfg.outbox
	case cfg.memory:
		r.outbox, r.ownOutbox = NewMemoryOutbox(), true
	default:
		o, err := openFileOutbox(cfg.path, &cfg)
		if err != nil {
			return nil, err
		}
		r.outbox, r.ownOutbox = o, true
	}
	if lo, ok := r.outbox.(interface{ local() *localIndex }); ok {
		r.local = lo.local()
	}
	if cfg.wrapOutbox != nil {
		r.outbox = cfg.wrapOutbox(r.outbox)
	}
	if fo, ok := r.outbox.(*FileOutbox); ok {
		if fo.corrupt > 0 {
			r.log.Error("usage: unreadable records moved to the dead-letter bucket", "records", fo.corrupt)
		}
		if fo.newer > 0 {
			r.log.Error("usage: records written by a newer version of this package are left in the outbox for it to send; this version does not send them",
				"records", fo.newer)
		}
	}
	r.sendCtx, r.stopSending = context.WithCancel(context.Background())
	go r.writer()
	go r.sender()
	r.kick()
	return r, nil
}

func (c *config) check() error {
	switch {
	case c.outboxSet && c.outbox == nil:
		return errors.New("usage: WithOutbox(nil): give an Outbox")
	case c.outbox != nil && (c.memory || c.path != ""):
		return errors.New("usage: WithOutbox excludes WithPath and WithMemory: choose one")
	case c.memory && c.path != "":
		return errors.New("usage: WithPath and WithMemory exclude each other: choose one")
	case c.outbox == nil && !c.memory && c.path == "":
		return errors.New("usage: no outbox: give WithPath(file), WithOutbox(o) (or WithMemory() for tests, which loses reports on a crash)")
	case c.delivery != AtLeastOnce && c.delivery != AtMostOnce:
		return fmt.Errorf("usage: WithDelivery(%v): want usage.AtLeastOnce or usage.AtMostOnce", c.delivery)
	}
	return nil
}

// Report stores one usage report for customerID's featureID and returns
// once it is durably stored (written and synced to disk), not when it is
// sent: the sender delivers it in the background, also after a crash or a
// restart. value is added to the usage under DELTA (it may be negative)
// and replaces it under SET (it may not).
//
// Bad input (an empty or over-long ID, an ID that is not UTF-8, an unknown
// behaviour, a negative SET) is refused with an error wrapping
// ErrInvalidReport, and nothing is stored. ctx bounds the wait for a place
// in the write queue; once queued, Report waits for the sync, so that an
// error always means the report was not stored. Concurrent calls share
// their disk syncs.
func (r *Reporter) Report(ctx context.Context, customerID, featureID string, value int, behaviour api.ReportUsageRequestBehaviour) error {
	if err := validate(customerID, featureID, value, behaviour); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &writeReq{
		rep:  Report{CustomerID: customerID, FeatureID: featureID, Value: value, Behaviour: behaviour, StoredAt: r.cfg.now()},
		done: make(chan error, 1),
	}
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return ErrClosed
	}
	select {
	case r.writes <- w:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-w.done
}

// Stats returns the Reporter's counters. Queued, OldestQueued and
// DeadLetters come from the outbox's Summary: read at once from a file or
// memory outbox, and for another outbox as the sender last read it (about
// once a second).
func (r *Reporter) Stats() Stats {
	s := Stats{
		Stored:    r.stats.stored.Load(),
		Sent:      r.stats.sent.Load(),
		Coalesced: r.stats.coalesced.Load(),
		Retried:   r.stats.retried.Load(),
		Dropped:   r.stats.dropped.Load(),
		Uncertain: r.stats.uncertain.Load(),
	}
	var sum Summary
	if x := r.local; x != nil {
		x.mu.Lock()
		sum = x.summary()
		x.mu.Unlock()
	} else {
		sum = r.cachedSummary()
	}
	s.Queued, s.OldestQueued, s.DeadLetters = sum.Queued, sum.Oldest, sum.DeadLetters
	return s
}

// summaryEvery is how often the sender reads a remote outbox's Summary.
const summaryEvery = time.Second

// refreshSummary reads the Summary of an outbox that is not local, at
// most once per summaryEvery.
func (r *Reporter) refreshSummary(ctx context.Context) {
	if r.local != nil {
		return
	}
	r.mu.Lock()
	due := time.Since(r.summaryAt) >= summaryEvery
	r.mu.Unlock()
	if !due {
		return
	}
	s, err := r.outbox.Summary(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.summaryAt = time.Now()
	if err == nil {
		r.summary = s
	}
}

func (r *Reporter) cachedSummary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summary
}

// DeadLetters returns the reports in the dead-letter bucket, with the
// reason each was given up on, from this run and earlier ones, oldest
// first.
func (r *Reporter) DeadLetters() ([]DeadLetter, error) {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return nil, ErrClosed
	}
	return r.outbox.DeadLetters(context.Background())
}

// RequeueDeadLetters moves the dead letters match accepts (nil: all) back
// to the queue, after what their pairs hold, and returns how many it
// moved; the sender sends them again. Fix what made kelviq refuse them
// first (a rotated key, say). An unreadable dead letter is never
// requeued.
func (r *Reporter) RequeueDeadLetters(ctx context.Context, match func(DeadLetter) bool) (int, error) {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return 0, ErrClosed
	}
	n, err := r.outbox.RequeueDeadLetters(ctx, match)
	if n > 0 {
		r.kick()
	}
	return n, err
}

// PurgeDeadLetters deletes the dead letters match accepts (nil: all) and
// returns how many it deleted.
func (r *Reporter) PurgeDeadLetters(ctx context.Context, match func(DeadLetter) bool) (int, error) {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return 0, ErrClosed
	}
	return r.outbox.PurgeDeadLetters(ctx, match)
}

// Close stops accepting reports, waits for the Report calls in progress,
// sends what it can until ctx ends, and closes the outbox if NewReporter
// opened it (not one given with WithOutbox). Reports it could not send
// stay stored and are sent by the next Reporter on the outbox: that is not
// an error. An error means the outbox could not be written or closed. A request still in flight when ctx ends is abandoned, and counts
// as ambiguous (see Delivery).
//
// A second Close returns ErrClosed, once the first one has returned (or
// when its own ctx ends).
func (r *Reporter) Close(ctx context.Context) error {
	r.closeMu.Lock()
	if r.closed {
		r.closeMu.Unlock()
		// Not nil: the caller must not take it that this call closed the
		// outbox. Waiting for the first Close lets it know the file is
		// free once this returns (unless ctx ends first).
		select {
		case <-r.closeDone:
		case <-ctx.Done():
		}
		return ErrClosed
	}
	r.closed = true
	r.closeMu.Unlock()
	defer close(r.closeDone)
	// No Report is in progress or can start; the writer stays up for the
	// sender's deletes until every send is over.
	left, ferr := r.flush(ctx, r.local != nil)
	switch {
	case left > 0 && r.cfg.memory && r.ownOutbox:
		r.log.Warn("usage: closing with reports not sent; WithMemory loses them", "reports", left, "error", ferr)
	case left > 0:
		r.log.Info("usage: closing with reports not sent; the next Reporter on the outbox sends them", "reports", left, "error", ferr)
	}
	r.stopSending()
	<-r.senderDone
	r.inflight.Wait()
	// Deletes of delivered reports and moves to the dead letters that
	// failed in the outbox are made even after ctx ended: they send
	// nothing, and left undone the next start would send those reports
	// again (counted twice).
	serr := r.settle(context.Background())
	close(r.writes)
	<-r.writerDone
	var err error
	if r.ownOutbox {
		err = r.outbox.Close()
	}
	if serr != nil {
		err = errors.Join(serr, err)
	}
	return err
}
