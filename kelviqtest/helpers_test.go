package kelviqtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// do sends a raw request to the fake and returns the response and body.
func do(t *testing.T, srv *Server, method, path, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, data
}

// query is the sample's query string, with a leading '?' when not empty.
func query(smp *sample) string {
	q := url.Values{}
	for k, v := range smp.query {
		data, _ := json.Marshal(v)
		var s string
		if json.Unmarshal(data, &s) != nil {
			s = string(data)
		}
		q.Set(k, s)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// credentialsFor is a header with a valid credential for the operation.
func credentialsFor(op *operation) http.Header {
	h := http.Header{}
	for _, sc := range op.security {
		if sc.bearer {
			h.Set("Authorization", "Bearer "+ServerKey)
		} else {
			h.Set(sc.header, PartnerKey)
		}
		break
	}
	return h
}

// bearer and partner are headers with one credential each.
func bearer(key string) http.Header  { return http.Header{"Authorization": {"Bearer " + key}} }
func partner(key string) http.Header { return http.Header{"X-Kelviq-Partner-Key": {key}} }

// isKelviqErrorShape reports whether body is one of kelviq's three error
// shapes: {"status", "message"}, {"detail"}, or {"error", "<field>": [...]}
// (or field errors alone).
func isKelviqErrorShape(body []byte) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || len(m) == 0 {
		return false
	}
	if _, ok := m["detail"].(string); ok && len(m) == 1 {
		return true
	}
	_, hasStatus := m["status"].(string)
	if _, ok := m["message"].(string); ok && hasStatus && len(m) == 2 {
		return true
	}
	for k, v := range m {
		if k == "error" {
			if _, ok := v.(string); !ok {
				return false
			}
			continue
		}
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return false
		}
		for _, x := range list {
			if _, ok := x.(string); !ok {
				return false
			}
		}
	}
	return true
}

// errorMessage is the message of a kelviq error body, whatever its shape.
func errorMessage(body []byte) string {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	for _, k := range []string{"detail", "message", "error"} {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	return ""
}
