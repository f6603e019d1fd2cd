package kelviqotel

import (
	"context"
	"errors"
	"math"
	"reflect"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
)

// OutcomeKey is the outcome of an entitlements check or a usage report in
// the Stats instruments.
const OutcomeKey = attribute.Key("kelviq.outcome")

// The instruments InstrumentCheckerStats and InstrumentReporterStats make.
const (
	// ChecksName counts entitlements checks by kelviq.outcome: fresh_hit
	// (Stats.Hits), store_hit (StoreHits), fetched (Fetched), stale
	// (StaleAnswers), error (Errors), and denied (Denied). Each check has
	// one of the first five, where its answer came from; denied counts the
	// checks that answered no access, whatever their source, so it is not
	// to be added to the others.
	ChecksName = "kelviq.entitlements.checks"
	// QueuedName is the number of usage reports stored and not yet
	// delivered or dead-lettered (Stats.Queued).
	QueuedName = "kelviq.usage.queued"
	// OldestQueuedAgeName is the age of the oldest queued report, in
	// seconds (from Stats.OldestQueued; 0 when none is queued): how far
	// delivery is behind.
	OldestQueuedAgeName = "kelviq.usage.oldest_queued.age"
	// ReportsName counts usage reports by their end, kelviq.outcome:
	// delivered (Stats.Sent), dead_lettered (Dropped: kelviq refused them),
	// uncertain (Uncertain: dead-lettered because they may or may not have
	// reached kelviq).
	ReportsName = "kelviq.usage.reports"
	// RetriesName counts failed attempts of usage reports that are tried
	// again (Stats.Retried).
	RetriesName = "kelviq.usage.retries"
	// DeadLettersName is the number of reports in the dead-letter bucket,
	// from this run and earlier ones (Stats.DeadLetters).
	DeadLettersName = "kelviq.usage.dead_letters"
)

// CheckerStats is what InstrumentCheckerStats reads: an
// *entitlements.Checker.
type CheckerStats interface {
	Stats() entitlements.Stats
}

// ReporterStats is what InstrumentReporterStats reads: a *usage.Reporter.
type ReporterStats interface {
	Stats() usage.Stats
}

var (
	outcomeFreshHit     = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("fresh_hit")))
	outcomeStoreHit     = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("store_hit")))
	outcomeFetched      = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("fetched")))
	outcomeStale        = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("stale")))
	outcomeDenied       = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("denied")))
	outcomeError        = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("error")))
	outcomeDelivered    = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("delivered")))
	outcomeDeadLettered = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("dead_lettered")))
	outcomeUncertain    = metric.WithAttributeSet(attribute.NewSet(OutcomeKey.String("uncertain")))
)

// InstrumentCheckerStats exports the counts of c (an
// *entitlements.Checker) as the observable counter ChecksName, read from
// c.Stats() at each collection, with the meter provider of opts (the
// global one by default; the other options do not apply). Unregister the
// returned registration when c is closed.
func InstrumentCheckerStats(c CheckerStats, opts ...Option) (metric.Registration, error) {
	if isNil(c) {
		return nil, errors.New("kelviqotel: InstrumentCheckerStats needs a Checker, got nil")
	}
	meter := newMeter(opts)
	checks, err := meter.Int64ObservableCounter(ChecksName, metric.WithUnit("{check}"),
		metric.WithDescription("Entitlements checks, by outcome."))
	if err != nil {
		return nil, err
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := c.Stats()
		o.ObserveInt64(checks, clampUint(s.Hits), outcomeFreshHit)
		o.ObserveInt64(checks, clampUint(s.StoreHits), outcomeStoreHit)
		o.ObserveInt64(checks, clampUint(s.Fetched), outcomeFetched)
		o.ObserveInt64(checks, clampUint(s.StaleAnswers), outcomeStale)
		o.ObserveInt64(checks, clampUint(s.Errors), outcomeError)
		o.ObserveInt64(checks, clampUint(s.Denied), outcomeDenied)
		return nil
	}, checks)
}

// InstrumentReporterStats exports the state of r (a *usage.Reporter) as
// observable instruments read from r.Stats() at each collection: QueuedName,
// OldestQueuedAgeName, ReportsName (delivered, dead_lettered, uncertain),
// RetriesName and DeadLettersName; with the meter provider of opts (the
// global one by default). Unregister the returned registration when r is
// closed.
func InstrumentReporterStats(r ReporterStats, opts ...Option) (metric.Registration, error) {
	if isNil(r) {
		return nil, errors.New("kelviqotel: InstrumentReporterStats needs a Reporter, got nil")
	}
	meter := newMeter(opts)
	queued, err1 := meter.Int64ObservableGauge(QueuedName, metric.WithUnit("{report}"),
		metric.WithDescription("Usage reports stored and not yet delivered or dead-lettered."))
	age, err2 := meter.Float64ObservableGauge(OldestQueuedAgeName, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest queued usage report; 0 when none is queued."))
	reports, err3 := meter.Int64ObservableCounter(ReportsName, metric.WithUnit("{report}"),
		metric.WithDescription("Usage reports delivered or dead-lettered, by outcome."))
	retries, err4 := meter.Int64ObservableCounter(RetriesName, metric.WithUnit("{attempt}"),
		metric.WithDescription("Failed attempts of usage reports that are tried again."))
	dead, err5 := meter.Int64ObservableGauge(DeadLettersName, metric.WithUnit("{report}"),
		metric.WithDescription("Usage reports in the dead-letter bucket."))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := r.Stats()
		o.ObserveInt64(queued, s.Queued)
		o.ObserveFloat64(age, ageOf(s.OldestQueued, time.Now()))
		o.ObserveInt64(reports, s.Sent, outcomeDelivered)
		o.ObserveInt64(reports, s.Dropped, outcomeDeadLettered)
		o.ObserveInt64(reports, s.Uncertain, outcomeUncertain)
		o.ObserveInt64(retries, s.Retried)
		o.ObserveInt64(dead, s.DeadLetters)
		return nil
	}, queued, age, reports, retries, dead)
}

func newMeter(opts []Option) metric.Meter {
	c := newConfig(opts)
	return c.mp.Meter(scopeName, metric.WithInstrumentationVersion(kelviq.Version))
}

// ageOf is how long ago t was, in seconds; 0 for the zero time or a time
// ahead of now (another clock).
func ageOf(t, now time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return max(now.Sub(t).Seconds(), 0)
}

func clampUint(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// isNil reports a nil interface or one holding a nil pointer: a Checker
// or Reporter left nil by an ignored error would pass a plain nil check,
// then panic in every collection, in the metric reader's goroutine, far
// from the mistake.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
