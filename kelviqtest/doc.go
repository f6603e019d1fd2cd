// Package kelviqtest is a fake kelviq API for tests, driven by the same
// OpenAPI spec the client in package api is generated from.
//
// NewServer starts it on a loopback port for one test:
//
//	srv := kelviqtest.NewServer(t)
//	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL),
//		kelviq.WithServerKey(kelviqtest.ServerKey))
//	res, err := c.ListCustomersWithResponse(ctx, nil)
//
// Every operation of the spec is served. The fake checks the credential
// each operation's security names (a server key as a bearer token, or a
// partner key in X-Kelviq-Partner-Key) and answers 401 when it is missing
// or of the wrong kind, validates the request against the spec and answers
// 400 naming the invalid field, and otherwise answers the operation's
// success response: the spec's example or, where there is none, a
// deterministic value synthesised from the response schema. Every response
// it sends validates against the spec.
//
// Options change the answers (WithResponse, WithResponseFunc), inject
// failures and delays (WithFault), restrict the accepted keys
// (WithServerKeys, WithPartnerKeys) and observe requests (WithObserver);
// Handler.Requests returns what the fake received. The fake keeps no
// state between requests: a created customer is not listed afterwards.
//
// NewHandler gives the same fake as an http.Handler, for code without a
// testing.TB; cmd/kelviq-mock serves it as a standalone process.
package kelviqtest
