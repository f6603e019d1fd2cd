package kelviqotel_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqotel"
)

// Keys of the tests: distinctive, so that a search for them in what was
// recorded cannot miss.
const (
	serverKey  = "sk_test_otel_5e1f0a9c77d2"
	partnerKey = "kvqp_test_otel_b38e14c0a6f1"
)

// fastRetries keeps the waits between retries short.
var fastRetries = kelviq.WithRetryPolicy(kelviq.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})

// telemetry is the SDK of a test: spans in memory, metrics on demand.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = tel.mp.Shutdown(context.Background())
	})
	return tel
}

// options are the kelviqotel options that use this SDK.
func (tel *telemetry) options() []kelviqotel.Option {
	return []kelviqotel.Option{kelviqotel.WithTracerProvider(tel.tp), kelviqotel.WithMeterProvider(tel.mp),
		kelviqotel.WithPropagator(propagation.TraceContext{})}
}

func (tel *telemetry) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// metric returns the instrument called name, or fails the test.
func findMetric(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("no instrument %s", name)
	return metricdata.Metrics{}
}

// attrs is a span's attributes as a map.
func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// int64Points maps an Int64 sum or gauge's points by one attribute's value.
func int64Points(t *testing.T, m metricdata.Metrics, key attribute.Key) map[string]int64 {
	t.Helper()
	var points []metricdata.DataPoint[int64]
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		points = d.DataPoints
	case metricdata.Gauge[int64]:
		points = d.DataPoints
	default:
		t.Fatalf("%s is a %T", m.Name, m.Data)
	}
	out := map[string]int64{}
	for _, p := range points {
		v, _ := p.Attributes.Value(key)
		out[v.Emit()] = p.Value
	}
	return out
}
