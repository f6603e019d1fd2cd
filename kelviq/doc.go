// Package kelviq is the Go client for the kelviq monetization API: customers,
// checkout, entitlements, usage reporting, subscriptions, catalog, refunds,
// charges, and the partner API that provisions whole organizations.
//
// Every operation of the API is a method of [Client], generated from kelviq's
// OpenAPI spec into package [github.com/kelviq/kelviq-go/api] and embedded
// here, so ListCustomersWithResponse, ReportUsageWithResponse and the other
// 62 are called directly on the client. This package adds what the generated
// code does not know: which credential each operation takes (the spec's
// security), which host it lives on (production or sandbox, core or edge), a
// user agent, and checked configuration.
//
//	client, err := kelviq.NewClient(kelviq.WithServerKey(os.Getenv("KELVIQ_SERVER_API_KEY")))
//	if err != nil { … }
//	res, err := client.ListCustomersWithResponse(ctx, &api.ListCustomersParams{})
//
// Two credentials exist. The server key ([WithServerKey]) is sent as
// "Authorization: Bearer …" to the operations whose security is bearerAuth;
// the partner key ([WithPartnerKey], "kvqp_…") is sent in the
// X-Kelviq-Partner-Key header to the partner operations
// (/partner/organizations…). A credential is never sent to an operation that
// does not name it, and a call that needs a key the client was not given
// fails before anything is sent.
//
// A status the spec does not declare as the operation's success comes back as
// a [*Error] (errors.Is with [ErrNotFound], [ErrRateLimited] and the other
// sentinels). Idempotent requests are retried on 408, 429, 5xx and transient
// network errors with backoff and Retry-After ([WithRetries],
// [WithRetryPolicy]); POST and PATCH are never sent twice unless a call opts
// in with [Idempotent]. A redirect to another host never carries a key.
// Every page-numbered list has an iterator, e.g. [Client.ListCustomersIter];
// it asks for at most [MaxPageSize] items a page and always ends, whatever
// the server answers (at the latest after [DefaultMaxPages] pages, see
// [WithMaxPages], with [ErrPaginationLoop]).
//
// When a call returns a nil error, the JSONxxx field of the status it got is
// set if the spec declares a JSON body for that status: a 2xx status the
// operation does not declare, and an empty, non-JSON or undecodable success
// body, is an error wrapping [ErrUnexpectedResponse] that names the
// operation, status and Content-Type (a body of null too). An integer field
// takes a whole number in any JSON spelling (10, 10.0, 1e1); a fraction is
// such an error, naming the field.
// A path parameter can never turn a call into another operation: "", "."
// and "..", a value with such a piece between '/', '\' or ';' (which a
// server decoding %2F would resolve), and control characters are refused
// with [ErrInvalidParameter] before anything is sent (other values are
// escaped into one segment); nor can a request editor, which the router
// refuses with [ErrUnknownOperation] when it moved the request to another
// operation. Network, context and request-building errors name the
// operation and still match errors.Is(err, context.Canceled) and
// errors.As with a *url.Error. Keys the server echoes back (as they are,
// JSON-escaped, percent-encoded, or cut) are redacted from every error,
// every error it wraps, and every log.
//
// One call can take its own timeout, retries and header with the request
// editors [WithCallTimeout], [WithCallRetries] and [WithCallHeader], and a
// client can be observed or extended with [WithMiddleware] (package
// kelviqotel builds OpenTelemetry spans and metrics on it).
//
// Where the code is: routing.go finds a request's operation and sets its
// credential and host; call.go is the pipeline of one call (route, deadline,
// send, judge the response); deadline.go shares the client's timeout
// between calls; middleware.go runs the middlewares; calloptions.go holds
// the per-call options; retry.go retries; redirect.go keeps keys on
// their origin; errors.go decodes error responses into [*Error]; redact.go
// keeps keys out of them; pathparams.go and calls.gen.go wrap the generated
// client.
//
// Tests can run against package kelviqtest, a fake kelviq built from the
// same spec.
//
// Every operation, with its credential, host, iterator and docs page, is
// listed in API.md at the repository root and in the doc of package api.
//
// API reference: https://docs.kelviq.com/api-reference/introduction
package kelviq
