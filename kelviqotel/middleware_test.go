package kelviqotel_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqotel"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

func newClient(t *testing.T, srv *kelviqtest.Server, tel *telemetry, opts ...kelviq.Option) *kelviq.Client {
	t.Helper()
	all := append([]kelviq.Option{kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(serverKey), kelviq.WithPartnerKey(partnerKey),
		fastRetries, kelviq.WithMiddleware(kelviqotel.Middleware(tel.options()...))}, opts...)
	c, err := kelviq.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// children returns the ended spans whose parent is parent, in the order
// they ended.
func children(spans []sdktrace.ReadOnlySpan, parent trace.SpanContext) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == parent.SpanID() && s.Parent().TraceID() == parent.TraceID() {
			out = append(out, s)
		}
	}
	return out
}

// spanNamed returns the one ended span called name.
func spanNamed(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q, want 1 (of %d)", len(found), name, len(spans))
	}
	return found[0]
}

// A call retried twice then answered: one client span named by the
// operation, with three attempt children (503, 503, 200), the HTTP client
// attributes, and the trace context of each attempt sent to the server.
func TestRetriedCallSpans(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListCustomers, kelviqtest.Fault{Status: http.StatusServiceUnavailable, Times: 2}))
	tel := newTelemetry(t)
	c := newClient(t, srv, tel)
	if _, err := c.ListCustomersWithResponse(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	spans := tel.spans.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	call := spanNamed(t, spans, "listCustomers")
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	a := attrs(call.Attributes())
	for k, want := range map[attribute.Key]attribute.Value{
		"http.request.method":       attribute.StringValue("GET"),
		"http.response.status_code": attribute.IntValue(200),
		"server.address":            attribute.StringValue("127.0.0.1"),
		"server.port":               attribute.IntValue(port),
		"url.template":              attribute.StringValue("/customers/"),
		"kelviq.operation":          attribute.StringValue("listCustomers"),
		"kelviq.retry_count":        attribute.IntValue(2),
		"kelviq.credential":         attribute.StringValue("server_key"),
	} {
		if a[k] != want {
			t.Errorf("call span %s = %v, want %v", k, a[k].Emit(), want.Emit())
		}
	}
	if _, has := a["error.type"]; has || call.Status().Code == codes.Error {
		t.Errorf("a call that succeeded has error.type %v, status %v", a["error.type"].Emit(), call.Status())
	}
	if call.SpanKind() != trace.SpanKindClient || call.Parent().IsValid() {
		t.Errorf("call span kind %v, parent %v: want a client root span", call.SpanKind(), call.Parent())
	}

	attempts := children(spans, call.SpanContext())
	if len(attempts) != 3 {
		t.Fatalf("%d attempt spans, want 3", len(attempts))
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("the server got %d requests", len(reqs))
	}
	for i, s := range attempts {
		a := attrs(s.Attributes())
		wantStatus, wantErr := 503, "503"
		if i == 2 {
			wantStatus, wantErr = 200, ""
		}
		if s.Name() != "GET /customers/" || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("attempt %d: name %q kind %v", i+1, s.Name(), s.SpanKind())
		}
		if a["http.response.status_code"].AsInt64() != int64(wantStatus) || a["error.type"].AsString() != wantErr ||
			a["kelviq.retry_count"].AsInt64() != int64(i) || a["kelviq.operation"].AsString() != "listCustomers" ||
			a["server.address"].AsString() != "127.0.0.1" || a["http.request.method"].AsString() != "GET" {
			t.Errorf("attempt %d: attributes %v", i+1, s.Attributes())
		}
		if i > 0 && a["http.request.resend_count"].AsInt64() != int64(i) {
			t.Errorf("attempt %d: http.request.resend_count %v", i+1, a["http.request.resend_count"].Emit())
		}
		if (wantErr != "") != (s.Status().Code == codes.Error) {
			t.Errorf("attempt %d: status %v", i+1, s.Status())
		}
		// The server got this attempt's own trace context.
		got := propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(reqs[i].Header))
		if sc := trace.SpanContextFromContext(got); sc.SpanID() != s.SpanContext().SpanID() || sc.TraceID() != call.SpanContext().TraceID() {
			t.Errorf("attempt %d: the server got traceparent %q, want span %s of trace %s", i+1, reqs[i].Header.Get("Traceparent"), s.SpanContext().SpanID(), call.SpanContext().TraceID())
		}
	}

	// One measurement of the call, by operation and status class.
	h := findMetric(t, tel.collect(t), kelviqotel.DurationName)
	hist, ok := h.Data.(metricdata.Histogram[float64])
	if !ok || len(hist.DataPoints) != 1 || hist.DataPoints[0].Count != 1 {
		t.Fatalf("duration: %+v", h.Data)
	}
	p := hist.DataPoints[0]
	if op, _ := p.Attributes.Value("kelviq.operation"); op.AsString() != "listCustomers" {
		t.Errorf("duration attributes %v", p.Attributes.ToSlice())
	}
	if class, _ := p.Attributes.Value("kelviq.status_class"); class.AsString() != "2xx" {
		t.Errorf("duration attributes %v", p.Attributes.ToSlice())
	}
	if h.Unit != "s" || p.Sum <= 0 {
		t.Errorf("duration unit %q sum %v", h.Unit, p.Sum)
	}
}

// A 404 sets error.type and an Error status on the call and its attempt,
// and is measured as 4xx.
func TestNotFoundSetsErrorType(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	tel := newTelemetry(t)
	c := newClient(t, srv, tel)
	_, err := c.UpdateCustomerWithResponse(context.Background(), "cust_missing", api.UpdateCustomerJSONRequestBody{})
	var e *kelviq.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusNotFound {
		t.Fatalf("got %v, want a 404", err)
	}
	spans := tel.spans.Ended()
	call := spanNamed(t, spans, "updateCustomer")
	attempts := children(spans, call.SpanContext())
	if len(attempts) != 1 {
		t.Fatalf("%d attempts", len(attempts))
	}
	for _, s := range []sdktrace.ReadOnlySpan{call, attempts[0]} {
		a := attrs(s.Attributes())
		if a["error.type"].AsString() != "404" || a["http.response.status_code"].AsInt64() != 404 || s.Status().Code != codes.Error {
			t.Errorf("%s: error.type %q status %v %v", s.Name(), a["error.type"].Emit(), a["http.response.status_code"].Emit(), s.Status())
		}
		if a["url.template"].AsString() != "/customers/{customerId}/" {
			t.Errorf("%s: url.template %q", s.Name(), a["url.template"].Emit())
		}
	}
	hist := findMetric(t, tel.collect(t), kelviqotel.DurationName).Data.(metricdata.Histogram[float64])
	if class, _ := hist.DataPoints[0].Attributes.Value("kelviq.status_class"); class.AsString() != "4xx" {
		t.Errorf("measured as %q", class.Emit())
	}
}

// A call refused before sending (no server key): a span with the error,
// no attempt, nothing sent; measured as "error".
func TestRefusedCallSpan(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	tel := newTelemetry(t)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithPartnerKey(partnerKey),
		kelviq.WithMiddleware(kelviqotel.Middleware(tel.options()...)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomersWithResponse(context.Background(), nil); !errors.Is(err, kelviq.ErrMissingCredential) {
		t.Fatalf("got %v", err)
	}
	spans := tel.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the call's only", len(spans))
	}
	s := spans[0]
	a := attrs(s.Attributes())
	if s.Name() != "listCustomers" || a["error.type"].AsString() != "missing_credential" || s.Status().Code != codes.Error ||
		s.Status().Description != "missing_credential" || a["kelviq.retry_count"].AsInt64() != 0 {
		t.Errorf("span %q attributes %v status %v", s.Name(), s.Attributes(), s.Status())
	}
	if _, has := a["http.response.status_code"]; has {
		t.Error("a refused call has a status code")
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	hist := findMetric(t, tel.collect(t), kelviqotel.DurationName).Data.(metricdata.Histogram[float64])
	if class, _ := hist.DataPoints[0].Attributes.Value("kelviq.status_class"); class.AsString() != "error" {
		t.Errorf("measured as %q", class.Emit())
	}
}

// A span the caller has open is the parent of the call's span.
func TestCallSpanHasCallersParent(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	tel := newTelemetry(t)
	c := newClient(t, srv, tel)
	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "handler")
	if _, err := c.ListPartnerOrganizationsWithResponse(ctx, nil); err != nil {
		t.Fatal(err)
	}
	parent.End()
	call := spanNamed(t, tel.spans.Ended(), "listPartnerOrganizations")
	if call.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("the call span's parent is %v, want the caller's span", call.Parent().SpanID())
	}
	if attrs(call.Attributes())["kelviq.credential"].AsString() != "partner_key" {
		t.Errorf("credential %v", attrs(call.Attributes())["kelviq.credential"].Emit())
	}
}

// Without options the global providers are used: with none set, nothing
// is recorded and the call works; the request carries no traceparent.
func TestGlobalNoopProviders(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(serverKey), kelviq.WithMiddleware(kelviqotel.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomersWithResponse(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if h := srv.Requests()[0].Header; h.Get("Traceparent") != "" || strings.Contains(h.Get("Authorization"), serverKey) == false {
		t.Errorf("headers: traceparent %q", h.Get("Traceparent"))
	}
}

// A call that runs out of time (WithCallTimeout) is a "timeout", on the
// call and on its attempt.
func TestTimeoutErrorType(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListCustomers, kelviqtest.Fault{Delay: 2 * time.Second}))
	tel := newTelemetry(t)
	c := newClient(t, srv, tel)
	_, err := c.ListCustomersWithResponse(context.Background(), nil, kelviq.WithCallTimeout(50*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	spans := tel.spans.Ended()
	call := spanNamed(t, spans, "listCustomers")
	attempts := children(spans, call.SpanContext())
	if len(attempts) != 1 {
		t.Fatalf("%d attempts", len(attempts))
	}
	for _, s := range []sdktrace.ReadOnlySpan{call, attempts[0]} {
		if et := attrs(s.Attributes())["error.type"].AsString(); et != "timeout" || s.Status().Code != codes.Error {
			t.Errorf("%s: error.type %q, status %v", s.Name(), et, s.Status())
		}
	}
}

// A caller that set traceparent and tracestate itself (WithCallHeader):
// the attempt's trace context replaces both, one header each, and the
// caller's tracestate, which belongs to the trace it replaced, is not sent
// beside the new traceparent.
func TestCallersTraceHeadersReplaced(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"count":0,"next":null,"previous":null,"results":[]}`))
	}))
	defer srv.Close()
	tel := newTelemetry(t)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_trace_0001"), kelviq.WithMiddleware(kelviqotel.Middleware(tel.options()...)))
	if err != nil {
		t.Fatal(err)
	}
	const callers = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if _, err := c.ListCustomersWithResponse(context.Background(), nil,
		kelviq.WithCallHeader("traceparent", callers), kelviq.WithCallHeader("tracestate", "vendor=stale")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	parents := got.Values("Traceparent")
	if len(parents) != 1 || parents[0] == callers {
		t.Fatalf("traceparent %q, want the attempt's only", parents)
	}
	var attempt string
	for _, s := range tel.spans.Ended() {
		if s.Parent().IsValid() {
			attempt = s.SpanContext().TraceID().String()
		}
	}
	if attempt == "" || !strings.Contains(parents[0], attempt) {
		t.Errorf("traceparent %q, not the attempt's trace %q", parents[0], attempt)
	}
	if states := got.Values("Tracestate"); len(states) != 0 {
		t.Errorf("tracestate %q sent beside the new traceparent, want none", states)
	}
}

// Two kelviqotel middlewares on one client (two providers): each call
// span counts its own attempts. The attempts found the nearest call's
// record, the inner middleware's: the outer call span said 0 retries, the
// inner one 2 × 2.
func TestTwoMiddlewaresCountTheirOwnAttempts(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListCustomers, kelviqtest.Fault{Status: http.StatusServiceUnavailable, Times: 2}))
	outer, inner := newTelemetry(t), newTelemetry(t)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_two_0001"),
		kelviq.WithRetryPolicy(kelviq.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}),
		kelviq.WithMiddleware(kelviqotel.Middleware(outer.options()...)), kelviq.WithMiddleware(kelviqotel.Middleware(inner.options()...)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomersWithResponse(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for name, tel := range map[string]*telemetry{"outer": outer, "inner": inner} {
		call := spanNamed(t, tel.spans.Ended(), "listCustomers")
		if got := attrs(call.Attributes())["kelviq.retry_count"]; got != attribute.IntValue(2) {
			t.Errorf("%s call span: kelviq.retry_count %v, want 2", name, got.Emit())
		}
	}
}
