// Package kelviqotel traces and measures a kelviq client with
// OpenTelemetry: one client span per call, named by its operationId, with a
// child span per attempt (retries show as siblings), the W3C trace context
// sent to kelviq, and a request-duration histogram by operation and status
// class. InstrumentCheckerStats and InstrumentReporterStats export the
// counts of an entitlements.Checker and a usage.Reporter as observable
// instruments.
//
// It uses the OpenTelemetry API only: the application chooses the SDK and
// exporters, and sets them with WithTracerProvider and WithMeterProvider or
// as the global providers (otel.SetTracerProvider, otel.SetMeterProvider).
// Without an SDK every instrument is a no-op.
//
// Wire it in with one option:
//
//	client, err := kelviq.NewClient(kelviq.FromEnv(),
//		kelviq.WithMiddleware(kelviqotel.Middleware()))
//
// # What is recorded, and what never is
//
// Attributes follow OpenTelemetry's HTTP client conventions
// (http.request.method, http.response.status_code, server.address,
// server.port, url.template, error.type, http.request.resend_count) plus
// kelviq.operation (the operationId) and kelviq.retry_count. No attribute,
// span name, status description or event ever holds a key, a header, a
// body, a path parameter or query value, or text a server sent: the path
// is the spec's template ("/customers/{customerId}/"), and an error is
// described by error.type, a short class ("404", "timeout",
// "missing_credential"), never by its message, which may quote what the
// server was sent.
package kelviqotel
