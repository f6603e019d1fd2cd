package kelviqotel

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// scopeName names the instrumentation scope of every tracer and meter.
const scopeName = "github.com/kelviq/kelviq-go/kelviqotel"

// Option configures Middleware, InstrumentCheckerStats and
// InstrumentReporterStats.
type Option func(*config)

type config struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	prop propagation.TextMapPropagator
}

// WithTracerProvider makes spans with tp instead of the global provider
// (otel.GetTracerProvider). A nil tp is the global one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider makes instruments with mp instead of the global
// provider (otel.GetMeterProvider). A nil mp is the global one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithPropagator sends the trace context of each attempt with p instead of
// the global propagator (otel.GetTextMapPropagator; set it to
// propagation.TraceContext{} for W3C traceparent and tracestate). A nil p
// is the global one.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.prop = p }
}

func newConfig(opts []Option) config {
	var c config
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	// The global ones delegate: a provider set after Middleware is made
	// is still used.
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.prop == nil {
		c.prop = otel.GetTextMapPropagator()
	}
	return c
}
