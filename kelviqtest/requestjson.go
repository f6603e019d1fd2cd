package kelviqtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/kelviq/kelviq-go/api"
)

// Redacted replaces the value of a credential header in a Request's JSON.
const Redacted = "[redacted]"

// requestJSON is the JSON form of a Request: what cmd/kelviq-mock's
// GET /__kelviqtest/requests answers.
type requestJSON struct {
	OperationID string          `json:"operationId"`
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	Query       url.Values      `json:"query"`
	Header      http.Header     `json:"header"`
	BodyKind    string          `json:"bodyKind"`
	Body        json.RawMessage `json:"body,omitempty"`
	Credentials []string        `json:"credentials"`
	Status      int             `json:"status"`
	Problem     string          `json:"problem,omitempty"`
	DurationMS  float64         `json:"durationMs"`
}

// MarshalJSON writes the request as a JSON object with the fields
// operationId, method, path, query (name → values), header (name →
// values), bodyKind, body, credentials, status, problem and durationMs.
//
// The body is written as the JSON it is when it is JSON (bodyKind
// "json"), as a string when it is other UTF-8 text ("text"), as base64
// when it is not text ("base64"), and left out when there is none
// ("none"). The values of the headers that carry a credential
// (Authorization, X-Kelviq-Partner-Key and any other scheme of the spec,
// Proxy-Authorization, Cookie) are written as "[redacted]": the JSON of a
// Request never holds a key, so it can be logged or served.
func (r Request) MarshalJSON() ([]byte, error) {
	out := requestJSON{
		OperationID: r.OperationID,
		Method:      r.Method,
		Path:        r.Path,
		Query:       r.Query,
		Header:      redactHeader(r.Header),
		Credentials: r.Credentials,
		Status:      r.Status,
		Problem:     r.Problem,
		DurationMS:  float64(r.Duration.Microseconds()) / 1000,
	}
	if out.Query == nil {
		out.Query = url.Values{}
	}
	if out.Credentials == nil {
		out.Credentials = []string{}
	}
	out.BodyKind, out.Body = bodyJSON(r.Body)
	return marshal(out)
}

// bodyJSON is a body's kind and its JSON form.
func bodyJSON(b []byte) (string, json.RawMessage) {
	switch {
	case len(b) == 0:
		return "none", nil
	case json.Valid(b):
		return "json", b
	case utf8.Valid(b):
		s, _ := marshal(string(b))
		return "text", s
	}
	s, _ := marshal(base64.StdEncoding.EncodeToString(b))
	return "base64", s
}

// credentialHeaders are the headers whose values are redacted, in
// canonical form.
var credentialHeaders = func() map[string]bool {
	m := map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true}
	for _, sc := range api.SecuritySchemes {
		if sc.Header != "" {
			m[http.CanonicalHeaderKey(sc.Header)] = true
		}
	}
	return m
}()

// redactHeader is a copy of h with the credentials' values redacted.
func redactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if credentialHeaders[http.CanonicalHeaderKey(k)] || strings.Contains(strings.ToLower(k), "secret") {
			red := make([]string, len(vs))
			for i := range red {
				red[i] = Redacted
			}
			out[k] = red
			continue
		}
		out[k] = vs
	}
	return out
}
