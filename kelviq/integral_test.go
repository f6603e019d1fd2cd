package kelviq_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// bodyServer answers every request with the JSON body set last.
type bodyServer struct {
	mu   sync.Mutex
	body string
	srv  *httptest.Server
}

func newBodyServer(t *testing.T) (*bodyServer, *kelviq.Client) {
	t.Helper()
	s := &bodyServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		b := s.body
		s.mu.Unlock()
		st, _, _ := declaredAnswer(r.Method, r.URL.EscapedPath())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = io.WriteString(w, b)
	}))
	t.Cleanup(s.srv.Close)
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithBaseURL(s.srv.URL), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (s *bodyServer) serve(body string) {
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

// The reproduction: a METER entry whose usageLimit is a whole
// number spelled other than 10 decodes, through the client against a
// loopback server, to the same entitlements as 10; so do the other
// integer fields (currentUsage -0 is 0). A fraction or a number out of
// int64's range is an error naming the operation and the field, and
// wrapping ErrUnexpectedResponse.
func TestGetCustomerEntitlementsDecodesIntegralSpellings(t *testing.T) {
	s, c := newBodyServer(t)
	const tmpl = `{"customerId":"r_C1","entitlements":[{"featureId":"api","featureType":"BOOLEAN","hasAccess":true},{"featureId":"seats","featureType":"METER","hasAccess":true,"usageLimit":LIMIT,"currentUsage":USAGE,"remaining":7}]}`
	get := func(limit, usage string) (*api.GetCustomerEntitlementsResult, error) {
		s.serve(strings.NewReplacer("LIMIT", limit, "USAGE", usage).Replace(tmpl))
		return c.GetCustomerEntitlementsWithResponse(t.Context(), &api.GetCustomerEntitlementsParams{CustomerID: "r_C1"})
	}
	plain, err := get("10", "3")
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []string{"10", "10.0", "10.00", "1e1", "1E+1", "1e+1", "1.0e1", "100e-1", "0.1e2", "1000000000e-8"} {
		for _, usage := range []string{"3", "3.0", "3e0", "30E-1"} {
			res, err := get(limit, usage)
			if err != nil {
				t.Errorf("usageLimit %s, currentUsage %s: %v", limit, usage, err)
				continue
			}
			got := res.JSON200.GetEntitlements()
			want := plain.JSON200.GetEntitlements()
			if len(got) != 2 || got[1].GetUsageLimit() != 10 || got[1].GetCurrentUsage() != 3 || got[1].GetRemaining() != 7 || !got[0].GetHasAccess() || got[0].GetFeatureID() != want[0].GetFeatureID() {
				t.Errorf("usageLimit %s, currentUsage %s: %+v", limit, usage, got)
			}
			if !strings.Contains(string(res.Body), limit) {
				t.Errorf("Body is not what the server sent: %s", res.Body)
			}
		}
	}
	if res, err := get("10.0", "-0"); err != nil || res.JSON200.GetEntitlements()[1].GetCurrentUsage() != 0 {
		t.Errorf("-0: %v", err)
	}
	for _, tc := range []struct{ limit, says string }{
		{"10.5", "10.5 is not a whole number"},
		{"1e-1", "1e-1 is not a whole number"},
		{"1e30", "1e30 is out of range"},
		{"9223372036854775808.0", "out of range of int64"},
		{"-9.3e18", "out of range of int64"},
		{"1e999999999999999999999", "out of range"},
	} {
		res, err := get(tc.limit, "3.0")
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if res != nil || !errors.Is(err, kelviq.ErrUnexpectedResponse) || !strings.Contains(msg, "getCustomerEntitlements") || !strings.Contains(msg, "entitlements[1].usageLimit") || !strings.Contains(msg, tc.says) {
			t.Errorf("usageLimit %s: %v, want an error naming entitlements[1].usageLimit: %s", tc.limit, err, tc.says)
		}
	}
	// An error that is not about integers stays encoding/json's, as before.
	s.serve(`{"customerId":5}`)
	if _, err := c.GetCustomerEntitlementsWithResponse(t.Context(), &api.GetCustomerEntitlementsParams{CustomerID: "r_C1"}); !errors.Is(err, kelviq.ErrUnexpectedResponse) || !strings.Contains(err.Error(), "customerId") {
		t.Errorf("a number for a string: %v", err)
	}
}
