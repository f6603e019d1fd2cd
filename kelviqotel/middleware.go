package kelviqotel

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/kelviq/kelviq-go/kelviq"
)

// Attribute keys of kelviq's own.
const (
	// OperationKey is the spec's operationId of the call, e.g. "listCustomers".
	OperationKey = attribute.Key("kelviq.operation")
	// RetryCountKey is, on a call span, how many times the call was retried
	// (attempts − 1); on an attempt span, which retry it is (0: the first
	// attempt).
	RetryCountKey = attribute.Key("kelviq.retry_count")
	// StatusClassKey is the status class of a call in the request-duration
	// histogram: "2xx", "3xx", "4xx", "5xx", or "error" when no response
	// came (refused, network error, timeout).
	StatusClassKey = attribute.Key("kelviq.status_class")
	// CredentialKey is the kind of key a call carries ("server_key",
	// "partner_key", "none"), never the key.
	CredentialKey = attribute.Key("kelviq.credential")
)

// DurationName is the name of the request-duration histogram: the time a
// call took, all attempts and waits included, to its response's headers,
// in seconds, by kelviq.operation, http.request.method and
// kelviq.status_class.
const DurationName = "kelviq.client.request.duration"

// Middleware returns a kelviq.Middleware that traces and measures every call
// of the client it is given to (kelviq.WithMiddleware):
//
//   - a client span per call, named by the operationId ("listCustomers"),
//     from after routing to the final response's headers, with
//     kelviq.operation, http.request.method, url.template (the spec's path
//     template), server.address and server.port, kelviq.credential, and at
//     the end http.response.status_code, kelviq.retry_count and, for a
//     failure, error.type and an Error status. A call kelviq refuses before
//     sending (a missing key) has the span, with its error.type, and no
//     attempt;
//   - a client span per attempt, child of the call's, named by method and
//     path template ("GET /customers/"), with the same request attributes,
//     kelviq.retry_count and http.request.resend_count (from the second
//     attempt on), and its own status and error.type. Its trace context is
//     sent in the attempt's headers with the propagator (WithPropagator),
//     replacing a traceparent the caller set (and its tracestate);
//   - the histogram kelviq.client.request.duration (DurationName), one
//     measurement per call.
//
// The spans end when the response's headers have arrived: reading the body
// is not included. A redirect hop is an attempt; when it leaves the call's
// host, its span has no server.address (the Location was the server's
// choice). Attributes are set after the start only when the span records,
// so a sampler sees the request attributes, not the outcome.
func Middleware(opts ...Option) kelviq.Middleware {
	c := newConfig(opts)
	m := &middleware{
		tracer: c.tp.Tracer(scopeName, trace.WithInstrumentationVersion(kelviq.Version), trace.WithSchemaURL(semconv.SchemaURL)),
		prop:   c.prop,
		byOp:   map[opKey]*opInstruments{},
	}
	_, m.noopTracer = m.tracer.(tracenoop.Tracer)
	meter := c.mp.Meter(scopeName, metric.WithInstrumentationVersion(kelviq.Version), metric.WithSchemaURL(semconv.SchemaURL))
	var err error
	m.duration, err = meter.Float64Histogram(DurationName,
		metric.WithDescription("Duration of kelviq calls, all attempts included, to the final response's headers."),
		metric.WithUnit("s"),
		// OpenTelemetry's advice for http.client.request.duration.
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	if err != nil {
		otel.Handle(err) // the instrument returned is still usable (a no-op)
	}
	return m.handle
}

type middleware struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// noopTracer: tracer is trace/noop's, whose spans are no-ops: see
	// untraced.
	noopTracer bool
	duration   metric.Float64Histogram

	mu   sync.RWMutex
	byOp map[opKey]*opInstruments
}

// opKey is an operation on one host: a middleware may serve several
// clients (production and sandbox).
type opKey struct{ id, host, scheme string }

// maxOps bounds the cache of opInstruments: beyond it (many hosts) they are
// made per call.
const maxOps = 1024

// opInstruments is what the spans and measurements of one operation on one
// host share, made once: the start options and the attribute sets.
type opInstruments struct {
	callStart    []trace.SpanStartOption
	attemptName  string
	attemptStart []trace.SpanStartOption
	hopStart     []trace.SpanStartOption // an attempt on another host
	record       [len(statusClassNames)][]metric.RecordOption
}

func (m *middleware) instruments(op kelviq.Operation, u *url.URL) *opInstruments {
	k := opKey{id: op.ID, host: u.Host, scheme: u.Scheme}
	m.mu.RLock()
	in := m.byOp[k]
	m.mu.RUnlock()
	if in != nil {
		return in
	}
	in = newOpInstruments(op, u)
	m.mu.Lock()
	if len(m.byOp) < maxOps {
		m.byOp[k] = in
	}
	m.mu.Unlock()
	return in
}

func newOpInstruments(op kelviq.Operation, u *url.URL) *opInstruments {
	base := []attribute.KeyValue{
		OperationKey.String(op.ID),
		semconv.HTTPRequestMethodKey.String(op.Method),
		semconv.URLTemplate(op.PathTemplate),
	}
	server := append(append([]attribute.KeyValue(nil), base...), serverAttributes(u)...)
	call := append(append([]attribute.KeyValue(nil), server...), CredentialKey.String(string(op.Credential)))
	in := &opInstruments{
		callStart:    []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(call...)},
		attemptName:  op.Method + " " + op.PathTemplate,
		attemptStart: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(server...)},
		hopStart:     []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(base...)},
	}
	for i, class := range statusClassNames {
		set := attribute.NewSet(OperationKey.String(op.ID), semconv.HTTPRequestMethodKey.String(op.Method), StatusClassKey.String(class))
		in.record[i] = []metric.RecordOption{metric.WithAttributeSet(set)}
	}
	return in
}

// serverAttributes are server.address and server.port of u, the port
// from the scheme when u has none.
func serverAttributes(u *url.URL) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.ServerAddress(u.Hostname())}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		switch u.Scheme {
		case "https":
			port = 443
		case "http":
			port = 80
		}
	}
	if port > 0 {
		attrs = append(attrs, semconv.ServerPort(port))
	}
	return attrs
}

// callRecordKey keys a call's *callRecord in the attempts' contexts, by
// the middleware that made it: two on one client (two providers) each
// count their own call's attempts, not the nearest one's.
type callRecordKey struct{ m *middleware }

// callRecord is what a call's span learns from its attempts. It is the
// context of the call's span's parent too (one allocation, not two): it
// answers callRecordKey and hands everything else to the request's
// context.
type callRecord struct {
	context.Context
	m        *middleware
	attempts atomic.Int32
	in       *opInstruments // of the call's host
	host     string
	scheme   string
}

func (r *callRecord) Value(key any) any {
	if key == (callRecordKey{r.m}) {
		return r
	}
	return r.Context.Value(key)
}

func (m *middleware) handle(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
	if m.untraced(req.Context()) {
		if op.Attempt > 0 {
			return m.untracedAttempt(req, next)
		}
		return m.untracedCall(req, op, next)
	}
	if op.Attempt > 0 {
		return m.attempt(req, op, next)
	}
	return m.call(req, op, next)
}

// untraced reports whether the spans of a request with context ctx would
// be no-ops that change nothing: the tracer is trace/noop's and ctx holds no
// span context (noop's Start would only put its empty span in the context,
// where nothing below can tell it from none). The call and its attempts
// then skip the spans, the contexts carrying them and the call's record
// (5 allocations a call), and the duration is measured only when the
// histogram is enabled.
func (m *middleware) untraced(ctx context.Context) bool {
	return m.noopTracer && !trace.SpanContextFromContext(ctx).IsValid()
}

// untracedCall is call when untraced: the duration only.
func (m *middleware) untracedCall(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
	ctx := req.Context()
	if !m.duration.Enabled(ctx) {
		return next(req)
	}
	start := time.Now()
	in := m.instruments(op, req.URL)
	resp, err := next(req)
	m.duration.Record(ctx, time.Since(start).Seconds(), in.record[statusClass(statusOf(resp, err))]...)
	return resp, err
}

// untracedAttempt is attempt when untraced: the baggage is still sent
// (there is no trace context to send).
func (m *middleware) untracedAttempt(req *http.Request, next kelviq.MiddlewareNext) (*http.Response, error) {
	ctx := req.Context()
	if baggage.FromContext(ctx).Len() > 0 {
		req = req.WithContext(ctx) // a copy, whose headers the carrier copies
		m.prop.Inject(ctx, &headerCarrier{req: req})
	}
	return next(req)
}

// call traces and measures the call level.
func (m *middleware) call(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
	start := time.Now()
	in := m.instruments(op, req.URL)
	rec := &callRecord{Context: req.Context(), m: m, in: in, host: req.URL.Host, scheme: req.URL.Scheme}
	ctx, span := m.tracer.Start(rec, op.ID, in.callStart...)
	resp, err := next(req.WithContext(ctx))
	status := statusOf(resp, err)
	if span.IsRecording() {
		retries := max(int(rec.attempts.Load())-1, 0)
		attrs := make([]attribute.KeyValue, 0, 3)
		attrs = append(attrs, RetryCountKey.Int(retries))
		if status > 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
		}
		if et := errorType(status, err); et != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(et))
			span.SetStatus(codes.Error, et)
		}
		span.SetAttributes(attrs...)
	}
	span.End()
	m.duration.Record(ctx, time.Since(start).Seconds(), in.record[statusClass(status)]...)
	return resp, err
}

// attempt traces one attempt, and sends its trace context.
func (m *middleware) attempt(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
	ctx := req.Context()
	rec, _ := ctx.Value(callRecordKey{m}).(*callRecord)
	var start []trace.SpanStartOption
	var name string
	switch {
	case rec == nil: // not below this middleware's call level
		in := m.instruments(op, req.URL)
		start, name = in.attemptStart, in.attemptName
	case rec.host == req.URL.Host && rec.scheme == req.URL.Scheme:
		rec.attempts.Add(1)
		start, name = rec.in.attemptStart, rec.in.attemptName
	default: // a redirect hop to another host
		rec.attempts.Add(1)
		start, name = rec.in.hopStart, rec.in.attemptName
	}
	ctx, span := m.tracer.Start(ctx, name, start...)
	out := req.WithContext(ctx)
	if span.SpanContext().IsValid() || baggage.FromContext(ctx).Len() > 0 {
		// Otherwise there is nothing to send (no-op provider): skip the
		// carrier.
		hc := headerCarrier{req: out}
		m.prop.Inject(ctx, &hc)
		if hc.parent && !hc.state {
			// A tracestate the caller set (WithCallHeader) belongs to
			// the traceparent just replaced, not to this span's trace.
			out.Header.Del("Tracestate")
		}
	}
	resp, err := next(out)
	if span.IsRecording() {
		status := statusOf(resp, err)
		attrs := make([]attribute.KeyValue, 0, 4)
		attrs = append(attrs, RetryCountKey.Int(op.Attempt-1))
		if op.Attempt > 1 {
			attrs = append(attrs, semconv.HTTPRequestResendCount(op.Attempt-1))
		}
		if status > 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
		}
		if et := errorType(status, err); et != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(et))
			span.SetStatus(codes.Error, et)
		}
		span.SetAttributes(attrs...)
	}
	span.End()
	return resp, err
}

// headerCarrier writes the trace context into a copy of the request's
// headers, made on the first write: the request given to the middleware is
// not modified, and nothing is copied when the propagator writes nothing
// (no valid span context).
type headerCarrier struct {
	req           *http.Request
	copied        bool
	parent, state bool // traceparent, tracestate written
}

func (c *headerCarrier) Get(key string) string { return c.req.Header.Get(key) }

func (c *headerCarrier) Set(key, value string) {
	if !c.copied {
		c.req.Header = c.req.Header.Clone()
		if c.req.Header == nil {
			c.req.Header = http.Header{}
		}
		c.copied = true
	}
	switch http.CanonicalHeaderKey(key) {
	case "Traceparent":
		c.parent = true
	case "Tracestate":
		c.state = true
	}
	c.req.Header.Set(key, value)
}

func (c *headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c.req.Header))
	for k := range c.req.Header {
		keys = append(keys, k)
	}
	return keys
}
