package kelviqotel_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqotel"
	"github.com/kelviq/kelviq-go/kelviqtest"
	"github.com/kelviq/kelviq-go/usage"
)

// A service wires kelviqotel in once, where it makes its kelviq client: the
// client's calls are traced and measured, and the entitlements checker's
// and usage reporter's counts are exported. Here the SDK writes to memory
// and the API is the kelviqtest fake; a service sets its own exporters
// (OTLP, …) and kelviq.FromEnv().
func Example() {
	// The service's OpenTelemetry setup, once at start. A service that
	// sets the global providers (otel.SetTracerProvider …) passes no
	// option to kelviqotel: the globals are its default.
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())
	telemetry := []kelviqotel.Option{
		kelviqotel.WithTracerProvider(tp),
		kelviqotel.WithMeterProvider(mp),
		kelviqotel.WithPropagator(propagation.TraceContext{}), // W3C traceparent to kelviq
	}

	h, err := kelviqtest.NewHandler(kelviqtest.WithSeed(bytes.NewReader(kelviqtest.ExampleSeed)))
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewServer(h)
	defer api.Close()

	// The kelviq client, traced and measured.
	client, err := kelviq.NewClient(kelviq.WithBaseURL(api.URL), kelviq.WithServerKey(kelviqtest.ServerKey),
		kelviq.WithMiddleware(kelviqotel.Middleware(telemetry...)))
	if err != nil {
		log.Fatal(err)
	}
	checker, err := entitlements.New(client)
	if err != nil {
		log.Fatal(err)
	}
	reporter, err := usage.NewReporter(client, usage.WithMemory())
	if err != nil {
		log.Fatal(err)
	}
	defer reporter.Close(context.Background())
	checks, err := kelviqotel.InstrumentCheckerStats(checker, telemetry...)
	if err != nil {
		log.Fatal(err)
	}
	defer checks.Unregister()
	reports, err := kelviqotel.InstrumentReporterStats(reporter, telemetry...)
	if err != nil {
		log.Fatal(err)
	}
	defer reports.Unregister()

	// A request of the service: its span is the parent of kelviq's.
	srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tp.Tracer("service").Start(r.Context(), "GET /report")
		defer span.End()
		if ok, err := checker.HasAccess(ctx, "cust_acme", "api-calls"); err != nil || !ok {
			http.Error(w, "no access", http.StatusForbidden)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/report", nil))
	_, _ = checker.HasAccess(context.Background(), "cust_acme", "api-calls") // from memory: no call

	for _, s := range spans.GetSpans() {
		fmt.Println("span:", s.Name)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Println("metric:", n)
	}
	// Output:
	// span: GET /entitlements/
	// span: getCustomerEntitlements
	// span: GET /report
	// metric: kelviq.client.request.duration
	// metric: kelviq.entitlements.checks
	// metric: kelviq.usage.dead_letters
	// metric: kelviq.usage.oldest_queued.age
	// metric: kelviq.usage.queued
	// metric: kelviq.usage.reports
	// metric: kelviq.usage.retries
}
