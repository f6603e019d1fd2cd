package kelviq

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/kelviq/kelviq-go/api"
)

// credentialHeaders are the headers that carry a key: Authorization, and the
// header of every apiKey scheme of the spec (X-Kelviq-Partner-Key).
var credentialHeaders = func() []string {
	h := []string{"Authorization"}
	for _, s := range api.SecuritySchemes {
		if s.Header != "" {
			h = append(h, http.CanonicalHeaderKey(s.Header))
		}
	}
	return h
}()

// errTooManyRedirects is net/http's own limit, kept when the caller's
// client has no CheckRedirect.
var errTooManyRedirects = errors.New("stopped after 10 redirects") // net/http's words; the call's error adds "kelviq: <operation>"

// redirectPolicy wraps the caller's CheckRedirect (nil: net/http's default,
// at most 10 redirects):
//
//   - a redirect the spec declares as the operation's answer (the 302 of
//     downloadCatalogPlanFile, whose Location is a signed URL for the
//     caller) is not followed: the call returns it as its result;
//   - a redirect that would change the method (net/http turns a POST or
//     PATCH into a GET on 301, 302 and 303) is not followed: the GET would
//     be another operation, or none, and its 2xx would pass for the
//     answer of a call that never reached its operation (a usage report
//     counted as delivered and lost). The call returns the 3xx, which the
//     operation does not declare, so it fails with a *kelviq.Error;
//   - a redirect that leaves the host the call was sent to (another host,
//     port or scheme, at any hop) carries neither Authorization nor
//     X-Kelviq-Partner-Key. net/http removes Authorization only for
//     another domain, and forwards custom headers such as the partner key
//     everywhere.
func redirectPolicy(prev func(*http.Request, []*http.Request) error, ops *opFinder) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if req.Response != nil {
			if op := ops.find(first.Method, first.URL); op != nil && slices.Contains(op.Success, req.Response.StatusCode) {
				return http.ErrUseLastResponse
			}
		}
		if req.Method != first.Method {
			return http.ErrUseLastResponse
		}
		if prev != nil {
			if err := prev(req, via); err != nil {
				return err
			}
		} else if len(via) >= 10 {
			return errTooManyRedirects
		}
		if leftOrigin(req, via) {
			for _, h := range credentialHeaders {
				req.Header.Del(h)
			}
		}
		return nil
	}
}

// leftOrigin reports whether req or any earlier hop goes to another origin
// (scheme, host and port) than the first request.
func leftOrigin(req *http.Request, via []*http.Request) bool {
	origin := via[0].URL
	same := func(r *http.Request) bool {
		return strings.EqualFold(r.URL.Scheme, origin.Scheme) && strings.EqualFold(r.URL.Host, origin.Host)
	}
	if !same(req) {
		return true
	}
	for _, r := range via[1:] {
		if !same(r) {
			return true
		}
	}
	return false
}
