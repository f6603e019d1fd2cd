package kelviqotel_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqotel"
	"github.com/kelviq/kelviq-go/kelviqtest"
	"github.com/kelviq/kelviq-go/usage"
)

// setStats is a Checker and a Reporter whose Stats the test sets: every
// field of both, including those no loopback scenario reaches quickly.
type setStats struct {
	e entitlements.Stats
	u usage.Stats
}

type checkerStats struct{ *setStats }

func (s checkerStats) Stats() entitlements.Stats { return s.e }

type reporterStats struct{ *setStats }

func (s reporterStats) Stats() usage.Stats { return s.u }

// Each outcome reads its own Stats field, and moves with it.
func TestCheckerInstrumentsReadEachField(t *testing.T) {
	tel := newTelemetry(t)
	s := &setStats{}
	reg, err := kelviqotel.InstrumentCheckerStats(checkerStats{s}, tel.options()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []entitlements.Stats{
		{Hits: 1, StoreHits: 2, Fetched: 3, StaleAnswers: 4, Denied: 5, Errors: 6, Misses: 99, APICalls: 98},
		{Hits: 10, StoreHits: 20, Fetched: 30, StaleAnswers: 40, Denied: 50, Errors: 60},
	} {
		s.e = st
		got := int64Points(t, findMetric(t, tel.collect(t), kelviqotel.ChecksName), kelviqotel.OutcomeKey)
		want := map[string]int64{"fresh_hit": int64(st.Hits), "store_hit": int64(st.StoreHits), "fetched": int64(st.Fetched),
			"stale": int64(st.StaleAnswers), "denied": int64(st.Denied), "error": int64(st.Errors)}
		if len(got) != len(want) {
			t.Errorf("outcomes %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %d, want %d", k, got[k], v)
			}
		}
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	s.e.Hits = 1000
	rm := tel.collect(t)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == kelviqotel.ChecksName && len(sum.DataPoints) > 0 {
				for _, p := range sum.DataPoints {
					if p.Value == 1000 {
						t.Error("still observed after Unregister")
					}
				}
			}
		}
	}
}

func TestReporterInstrumentsReadEachField(t *testing.T) {
	tel := newTelemetry(t)
	s := &setStats{}
	if _, err := kelviqotel.InstrumentReporterStats(reporterStats{s}, tel.options()...); err != nil {
		t.Fatal(err)
	}
	for _, st := range []usage.Stats{
		{Queued: 7, OldestQueued: time.Now().Add(-90 * time.Second), Sent: 3, Retried: 4, Dropped: 5, Uncertain: 6, DeadLetters: 11, Stored: 99},
		{Queued: 0, Sent: 30, Retried: 40, Dropped: 50, Uncertain: 60, DeadLetters: 110},
	} {
		s.u = st
		rm := tel.collect(t)
		if got := int64Points(t, findMetric(t, rm, kelviqotel.QueuedName), "")[""]; got != st.Queued {
			t.Errorf("queued %d, want %d", got, st.Queued)
		}
		reports := int64Points(t, findMetric(t, rm, kelviqotel.ReportsName), kelviqotel.OutcomeKey)
		if reports["delivered"] != st.Sent || reports["dead_lettered"] != st.Dropped || reports["uncertain"] != st.Uncertain || len(reports) != 3 {
			t.Errorf("reports %v, want delivered %d dead_lettered %d uncertain %d", reports, st.Sent, st.Dropped, st.Uncertain)
		}
		if got := int64Points(t, findMetric(t, rm, kelviqotel.RetriesName), "")[""]; got != st.Retried {
			t.Errorf("retries %d, want %d", got, st.Retried)
		}
		if got := int64Points(t, findMetric(t, rm, kelviqotel.DeadLettersName), "")[""]; got != st.DeadLetters {
			t.Errorf("dead letters %d, want %d", got, st.DeadLetters)
		}
		age := findMetric(t, rm, kelviqotel.OldestQueuedAgeName).Data.(metricdata.Gauge[float64]).DataPoints[0].Value
		if st.OldestQueued.IsZero() && age != 0 || !st.OldestQueued.IsZero() && (age < 89 || age > 120) {
			t.Errorf("oldest queued age %v for %v", age, st.OldestQueued)
		}
	}
}

// Over a real Checker on the loopback fake: the counts exported are those
// its Stats says, as checks are made.
func TestCheckerInstrumentsMoveWithStats(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithSeed(bytes.NewReader(kelviqtest.ExampleSeed)))
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(serverKey))
	if err != nil {
		t.Fatal(err)
	}
	checker, err := entitlements.New(c)
	if err != nil {
		t.Fatal(err)
	}
	tel := newTelemetry(t)
	reg, err := kelviqotel.InstrumentCheckerStats(checker, tel.options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	ctx := context.Background()
	for i := range 3 {
		if _, err := checker.HasAccess(ctx, "cust_acme", "api-calls"); err != nil {
			t.Fatal(err)
		}
		got := int64Points(t, findMetric(t, tel.collect(t), kelviqotel.ChecksName), kelviqotel.OutcomeKey)
		st := checker.Stats()
		if got["fresh_hit"] != int64(st.Hits) || got["fetched"] != int64(st.Fetched) || got["stale"] != int64(st.StaleAnswers) ||
			got["store_hit"] != int64(st.StoreHits) || got["denied"] != int64(st.Denied) || got["error"] != int64(st.Errors) {
			t.Errorf("check %d: exported %v, Stats %+v", i+1, got, st)
		}
		if i > 0 && st.Hits != uint64(i) {
			t.Errorf("check %d: Hits %d", i+1, st.Hits) // the first fetched, the others from memory
		}
	}
	// A feature the plan lacks: no access (Denied, where Stats counts it).
	if ok, _ := checker.HasAccess(ctx, "cust_acme", "no-such-feature"); ok {
		t.Fatal("access to a feature the plan lacks")
	}
	got := int64Points(t, findMetric(t, tel.collect(t), kelviqotel.ChecksName), kelviqotel.OutcomeKey)
	if st := checker.Stats(); got["denied"] != int64(st.Denied) || got["fresh_hit"] != int64(st.Hits) || got["error"] != int64(st.Errors) {
		t.Errorf("after a denied check: exported %v, Stats %+v", got, st)
	}
}

// Over a real Reporter on the loopback fake: reports queue while kelviq
// answers 503 (queued, oldest age, retries move), then are delivered.
func TestReporterInstrumentsMoveWithStats(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithSeed(bytes.NewReader(kelviqtest.ExampleSeed)),
		kelviqtest.WithFault(api.OpReportUsage, kelviqtest.Fault{Status: http.StatusServiceUnavailable}))
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(serverKey), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	r, err := usage.NewReporter(c, usage.WithMemory())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	tel := newTelemetry(t)
	reg, err := kelviqotel.InstrumentReporterStats(r, tel.options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	ctx := context.Background()
	if err := r.Report(ctx, "cust_acme", "api-calls", 5, api.ReportUsageRequestBehaviourDELTA); err != nil {
		t.Fatal(err)
	}
	_, _ = r.Flush(ctx) // fails: 503
	time.Sleep(20 * time.Millisecond)

	check := func(stage string) {
		t.Helper()
		before := r.Stats()
		rm := tel.collect(t)
		after := r.Stats()
		queued := int64Points(t, findMetric(t, rm, kelviqotel.QueuedName), "")[""]
		retries := int64Points(t, findMetric(t, rm, kelviqotel.RetriesName), "")[""]
		reports := int64Points(t, findMetric(t, rm, kelviqotel.ReportsName), kelviqotel.OutcomeKey)
		age := findMetric(t, rm, kelviqotel.OldestQueuedAgeName).Data.(metricdata.Gauge[float64]).DataPoints[0].Value
		if queued != before.Queued || queued != after.Queued {
			t.Errorf("%s: queued %d, Stats %d then %d", stage, queued, before.Queued, after.Queued)
		}
		if retries < before.Retried || retries > after.Retried || reports["delivered"] < before.Sent || reports["delivered"] > after.Sent {
			t.Errorf("%s: retries %d delivered %d, Stats %+v then %+v", stage, retries, reports["delivered"], before, after)
		}
		// The age is that of Stats.OldestQueued (zero: none known, age 0).
		if want := time.Since(before.OldestQueued).Seconds(); before.OldestQueued.IsZero() && age != 0 ||
			!before.OldestQueued.IsZero() && (age < want-1 || age > want+5) {
			t.Errorf("%s: oldest age %v, Stats.OldestQueued %v", stage, age, before.OldestQueued)
		}
	}
	if st := r.Stats(); st.Queued != 1 || st.Retried == 0 {
		t.Fatalf("stats %+v: want one report queued after a 503", st)
	}
	check("kelviq down")

	srv.ClearFaults()
	if remaining, err := r.Flush(ctx); err != nil || remaining != 0 {
		t.Fatalf("flush: %d remaining, %v", remaining, err)
	}
	if st := r.Stats(); st.Sent != 1 || st.Queued != 0 {
		t.Fatalf("stats %+v: want the report delivered", st)
	}
	check("kelviq up")
}

// A nil *Checker or *Reporter (an ignored error of entitlements.New or
// usage.NewReporter) is refused at once, not a callback that panics in
// every collection.
func TestInstrumentStatsRefuseTypedNil(t *testing.T) {
	tel := newTelemetry(t)
	var c *entitlements.Checker
	if reg, err := kelviqotel.InstrumentCheckerStats(c, tel.options()...); err == nil {
		_ = reg.Unregister()
		t.Error("InstrumentCheckerStats took a nil *entitlements.Checker")
	}
	var r *usage.Reporter
	if reg, err := kelviqotel.InstrumentReporterStats(r, tel.options()...); err == nil {
		_ = reg.Unregister()
		t.Error("InstrumentReporterStats took a nil *usage.Reporter")
	}
}
