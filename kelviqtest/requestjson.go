package kelviqtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
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
// Proxy-Authorization, Cookie) are written as "[redacted]", and so is any
// of those values (the key of "Bearer <key>") found in the path, query,
// body, problem or another header, as are partner keys (kvqp_…) and the
// fake's default keys wherever they are; the values of headers and query
// parameters whose names say they hold one (token, auth, secret, password,
// api key) are redacted whole: the JSON of a Request never holds a key, so
// it can be logged or served.
func (r Request) MarshalJSON() ([]byte, error) {
	red := newRedactor(r.Header)
	out := requestJSON{
		OperationID: r.OperationID,
		Method:      r.Method,
		Path:        red.text(r.Path),
		Query:       url.Values(red.header(http.Header(r.Query), false)),
		Header:      red.header(r.Header, true),
		Credentials: r.Credentials,
		Status:      r.Status,
		Problem:     red.text(r.Problem),
		DurationMS:  float64(r.Duration.Microseconds()) / 1000,
	}
	if out.Query == nil {
		out.Query = url.Values{}
	}
	if out.Credentials == nil {
		out.Credentials = []string{}
	}
	out.BodyKind, out.Body = bodyJSON(red.bytes(r.Body))
	return marshal(out)
}

// redactor replaces keys in a Request's text: the values of its credential
// headers wherever else they appear (a client that also put its key in the
// query string, the body or another header), partner keys (kvqp_…) and the
// fake's default keys. A value shorter than minSecret is redacted in its
// header only: replaced everywhere, it would mangle ordinary text.
type redactor struct{ secrets []string }

const minSecret = 8

// partnerKeyText matches a partner key in any text.
var partnerKeyText = regexp.MustCompile(partnerKeyPrefix + `[A-Za-z0-9._~+/=-]*`)

func newRedactor(h http.Header) redactor {
	r := redactor{secrets: []string{ServerKey, PartnerKey}}
	for k, vs := range h {
		if !credentialHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			v = strings.TrimSpace(v)
			if _, token, ok := strings.Cut(v, " "); ok {
				v = strings.TrimSpace(token) // "Bearer <key>": the key, wherever it is
			}
			if len(v) >= minSecret {
				r.secrets = append(r.secrets, v)
			}
		}
	}
	return r
}

func (r redactor) text(s string) string {
	for _, k := range r.secrets {
		if strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, Redacted)
		}
	}
	if strings.Contains(s, partnerKeyPrefix) {
		s = partnerKeyText.ReplaceAllLiteralString(s, Redacted)
	}
	return s
}

// bytes is text for a body; it copies b only when it holds a key.
func (r redactor) bytes(b []byte) []byte {
	for _, k := range r.secrets {
		if bytes.Contains(b, []byte(k)) {
			b = bytes.ReplaceAll(b, []byte(k), []byte(Redacted))
		}
	}
	if bytes.Contains(b, []byte(partnerKeyPrefix)) {
		b = partnerKeyText.ReplaceAllLiteral(b, []byte(Redacted))
	}
	return b
}

// secretNames are parts of header and query parameter names whose values
// are redacted whole, whatever they hold: a key sent where the spec does not
// put one ("X-Api-Key", "?access_token=") is no less a key.
var secretNames = []string{"secret", "token", "auth", "password", "apikey", "api-key", "api_key"}

func secretName(name string) bool {
	name = strings.ToLower(name)
	for _, s := range secretNames {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// header is a copy of h with keys redacted in its names and values, and,
// with credentials set, the credential headers' values replaced whole, as
// are those of any name that says it holds a secret (secretName).
func (r redactor) header(h http.Header, credentials bool) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		if (credentials && credentialHeaders[http.CanonicalHeaderKey(k)]) || secretName(k) {
			red := make([]string, len(vs))
			for i := range red {
				red[i] = Redacted
			}
			out[k] = red
			continue
		}
		vals := make([]string, len(vs))
		for i, v := range vs {
			vals[i] = r.text(v)
		}
		out[r.text(k)] = vals
	}
	return out
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
