package kelviqotel_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqotel"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// On trace/noop's provider the middleware skips the spans (they would be
// no-ops), and must still do what the spans' absence does not change: send
// the caller's baggage, send the caller's trace context when the caller has
// one (noop's Start keeps a non-recording parent), and measure the duration
// on a real meter.
func TestNoopTracerKeepsPropagationAndMetrics(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithPartnerKey(partnerKey), fastRetries,
		kelviq.WithMiddleware(kelviqotel.Middleware(kelviqotel.WithTracerProvider(tracenoop.NewTracerProvider()),
			kelviqotel.WithMeterProvider(mp),
			kelviqotel.WithPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})))))
	if err != nil {
		t.Fatal(err)
	}

	// No span, no baggage: nothing to send.
	if _, err := c.ListPartnerOrganizationsWithResponse(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// Baggage only.
	member, _ := baggage.NewMember("tenant", "t-42")
	bag, _ := baggage.New(member)
	if _, err := c.ListPartnerOrganizationsWithResponse(baggage.ContextWithBaggage(context.Background(), bag), nil); err != nil {
		t.Fatal(err)
	}
	// A remote parent's span context (as from an incoming request).
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, Remote: true})
	if _, err := c.ListPartnerOrganizationsWithResponse(trace.ContextWithRemoteSpanContext(context.Background(), sc), nil); err != nil {
		t.Fatal(err)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if h := reqs[0].Header; h.Get("Traceparent") != "" || h.Get("Baggage") != "" {
		t.Errorf("plain call sent traceparent %q, baggage %q", h.Get("Traceparent"), h.Get("Baggage"))
	}
	if h := reqs[1].Header; h.Get("Baggage") != "tenant=t-42" || h.Get("Traceparent") != "" {
		t.Errorf("baggage call sent traceparent %q, baggage %q; want only baggage tenant=t-42", h.Get("Traceparent"), h.Get("Baggage"))
	}
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
	if h := reqs[2].Header; h.Get("Traceparent") != want {
		t.Errorf("call under a remote parent sent traceparent %q, want the parent's %q", h.Get("Traceparent"), want)
	}
	for i, r := range reqs {
		if r.Header.Get("X-Kelviq-Partner-Key") == "" {
			t.Errorf("request %d lost its credential", i)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	h, ok := findMetric(t, rm, kelviqotel.DurationName).Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is not a float64 histogram", kelviqotel.DurationName)
	}
	var n uint64
	for _, dp := range h.DataPoints {
		n += dp.Count
	}
	if n != 3 {
		t.Errorf("%d durations recorded, want 3 (one per call)", n)
	}
}
