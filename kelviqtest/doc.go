// Package kelviqtest is a fake kelviq API for tests, driven by the same
// OpenAPI spec the client in package api is generated from. It remembers
// what it is sent, can be seeded, fails on demand, and records requests.
//
// NewServer starts it on a loopback port for one test:
//
//	srv := kelviqtest.NewServer(t)
//	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL),
//		kelviq.WithServerKey(kelviqtest.ServerKey),
//		kelviq.WithPartnerKey(kelviqtest.PartnerKey))
//
// # What every request goes through
//
// Every operation of the spec is served. The fake checks the credential
// each operation's security names (a server key as a bearer token, or a
// partner key in X-Kelviq-Partner-Key) and answers 401 when it is missing
// or of the wrong kind, validates the request against the spec and answers
// 400 naming the invalid field, then answers from its state (below) or
// with the operation's documented success response: the spec's example
// or, where there is none, a deterministic value synthesised from the
// response schema. Every success response it sends validates against the
// spec.
//
// # State
//
// By default the fake keeps state, per Handler (so per Server):
//
//   - Customers: createCustomer stores one (a customerId already stored is
//     400), updateCustomer changes the fields sent (404 for an unknown
//     customerId), listCustomers pages through them oldest first with
//     kelviq's page, page_size (default 10), count, next and previous, and
//     search; a page past the end is 404 "Invalid page.".
//   - Partner organizations: provisionPartnerOrganization makes one with
//     fresh ids and keys (a partnerExternalId already stored is 400, an
//     owner e-mail already used 409); listPartnerOrganizations (with
//     external_id), retrievePartnerOrganization and
//     retrievePartnerOrganizationByExternalId read them (404 when unknown).
//   - Entitlements and usage: entitlements come from the seed, with their
//     featureType and limits. reportUsage with SET replaces a customer's
//     usage of a feature, with DELTA adds to it; getCustomerEntitlements
//     answers from the state, filtered by feature_id, with currentUsage and
//     remaining worked out. A METER with hardLimit true answers hasAccess
//     false once its usage reaches usageLimit. A customer without
//     entitlements gets an empty list.
//   - Checkout sessions: createCheckoutSession stores an open session (and
//     the customer, when not stored yet), retrieveCheckoutSession and
//     listCheckoutSessions (status, search, start_date, end_date, pages)
//     read them, listCheckoutSessionEvents answers their creation event;
//     404 for an unknown session_id.
//
// Every other operation answers as the stateless fake does. WithStateless
// turns state off: every operation then answers the spec's example,
// whatever was sent before.
//
// WithSeed starts the state from a JSON fixture with the top-level keys
// "customers" (shaped like the spec's CustomerResponse), "entitlements"
// (the spec's EntitlementDetail plus "customerId") and
// "partnerOrganizations" (the spec's PartnerOrganization); unknown keys,
// and items that do not match the spec, are errors naming them.
// ExampleSeed is a documented example (kelviqtest/testdata/seed.json).
// Handler.Reset puts the state back to the seed and clears the faults. A
// seed larger than the limits (below) is an error of NewHandler.
//
// # Faults
//
// A Fault makes an operation answer a status (with a Retry-After), wait
// first, or drop the connection, every time or a number of times.
// WithFault sets one from the start; Handler.SetFault and
// Handler.ClearFaults change them while the fake runs; AnyOperation
// applies one to every operation. WithResponse and WithResponseFunc
// replace an operation's answer altogether.
//
// Operations are named by the spec's operationId, spelled as the spec
// does: "listCustomers", not "ListCustomers" (the Go method's name). The
// operationId constants of package api, e.g. api.OpListCustomers, fit
// wherever an operation ID is taken.
//
// # Recording
//
// Server.Requests (Handler.Requests) returns the requests received,
// oldest first: operation, method, path, query, body, the kinds of
// credential they carried (never the key), the status answered and why a
// request was refused. ClearRequests forgets them. WithObserver sees each
// as it is answered; WithoutRecording keeps none. A Request's JSON
// (Request.MarshalJSON, what kelviq-mock's GET /__kelviqtest/requests
// serves) has the body as JSON when it is JSON and the values of
// credential headers redacted.
//
// # Bounds
//
// Request bodies over 1 MiB (WithMaxBodyBytes) are answered 413 with a
// JSON error without being read further, and the bodies being read at once
// share a memory budget of 16 MiB; NewServer's server times out slow
// requests and idle connections.
//
// What the fake keeps is bounded too (Limits, WithLimits): by default at
// most 10,000 customers, 100,000 usage pairs (of features without a seeded
// entitlement), 10,000 partner organizations, 10,000 checkout sessions and
// 32 MiB of state all together, and the last 10,000 recorded requests
// within 32 MiB. Past a limit the oldest go first, and Stats counts them
// in Dropped; an object or request larger than a byte limit on its own is
// answered and not kept. The bytes are estimated from the decoded JSON,
// erring high, so a customer's large metadata counts for what it takes.
// So a fake, however long it runs and whatever it is sent, holds at most
// about 64 MiB of state and recordings plus 16 MiB of bodies being read
// (BENCHMARKS.md measures it).
//
// NewHandler gives the same fake as an http.Handler, for code without a
// testing.TB; cmd/kelviq-mock serves it as a standalone process (with
// -stateless, -seed, -fault, -max-* for the limits, and an -admin endpoint
// that sets faults and serves the recorded requests to other processes).
package kelviqtest
