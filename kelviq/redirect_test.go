package kelviq

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

func redirectReqs(t *testing.T, urls ...string) (*http.Request, []*http.Request) {
	t.Helper()
	var reqs []*http.Request
	for _, u := range urls {
		r, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer sk_test_x")
		r.Header.Set("X-Kelviq-Partner-Key", "kvqp_x")
		r.Response = &http.Response{StatusCode: http.StatusTemporaryRedirect}
		reqs = append(reqs, r)
	}
	return reqs[len(reqs)-1], reqs[:len(reqs)-1]
}

func TestRedirectStripsCredentialsWhenLeavingTheOrigin(t *testing.T) {
	policy := redirectPolicy(nil, newOpFinder(&settings{}))
	const origin = "https://api.kelviq.com/api/v1/customers/"
	for _, tc := range []struct {
		name  string
		hops  []string
		strip bool
	}{
		{"same origin", []string{origin, "https://api.kelviq.com/api/v1/customers/?page=1"}, false},
		{"host case differs", []string{origin, "https://API.kelviq.com/api/v1/customers/"}, false},
		{"other host", []string{origin, "https://evil.example/customers/"}, true},
		{"subdomain", []string{origin, "https://x.api.kelviq.com/customers/"}, true},
		{"other port", []string{origin, "https://api.kelviq.com:8443/customers/"}, true},
		{"downgrade to http", []string{origin, "http://api.kelviq.com/api/v1/customers/"}, true},
		{"back to the origin through another host", []string{origin, "https://evil.example/", "https://api.kelviq.com/api/v1/customers/"}, true},
	} {
		req, via := redirectReqs(t, tc.hops...)
		if err := policy(req, via); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		stripped := req.Header.Get("Authorization") == "" && req.Header.Get("X-Kelviq-Partner-Key") == ""
		kept := req.Header.Get("Authorization") != "" && req.Header.Get("X-Kelviq-Partner-Key") != ""
		if stripped != tc.strip || (!tc.strip && !kept) {
			t.Errorf("%s: headers %v, want stripped %v", tc.name, req.Header, tc.strip)
		}
	}
}

// The spec's declared redirect is the download's answer: not followed.
// An undeclared one is followed.
func TestDeclaredRedirectIsNotFollowed(t *testing.T) {
	policy := redirectPolicy(nil, newOpFinder(&settings{}))
	const download = "https://api.kelviq.com/api/v1/catalog/plans/pro/file/6f1c0b1e-0000-4000-8000-000000000000/download/"
	req, via := redirectReqs(t, download, "https://storage.example/file.pdf")
	req.Response.StatusCode = http.StatusFound
	if err := policy(req, via); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("302 of downloadCatalogPlanFile: %v, want http.ErrUseLastResponse", err)
	}
	req.Response.StatusCode = http.StatusMovedPermanently // not declared
	if err := policy(req, via); err != nil {
		t.Errorf("301 of downloadCatalogPlanFile: %v, want it followed", err)
	}
	req, via = redirectReqs(t, "https://api.kelviq.com/api/v1/customers/", "https://api.kelviq.com/api/v1/customers/?x")
	req.Response.StatusCode = http.StatusFound
	if err := policy(req, via); err != nil {
		t.Errorf("302 of listCustomers: %v, want it followed", err)
	}
}

func TestRedirectKeepsTheCallersPolicy(t *testing.T) {
	mine := errors.New("no redirects, thanks")
	calls := 0
	policy := redirectPolicy(func(*http.Request, []*http.Request) error { calls++; return mine }, newOpFinder(&settings{}))
	req, via := redirectReqs(t, "https://api.kelviq.com/api/v1/customers/", "https://api.kelviq.com/api/v1/customers/?x")
	if err := policy(req, via); err != mine || calls != 1 {
		t.Errorf("got %v after %d calls of the caller's policy", err, calls)
	}
	// Without one, net/http's limit of 10 holds.
	policy = redirectPolicy(nil, newOpFinder(&settings{}))
	hops := []string{}
	for range 11 {
		hops = append(hops, "https://api.kelviq.com/api/v1/customers/")
	}
	req, via = redirectReqs(t, hops...)
	if err := policy(req, via); !errors.Is(err, errTooManyRedirects) {
		t.Errorf("11th hop: %v", err)
	}
}

// A 302 to a POST makes net/http follow with a GET. Followed, the GET's
// 2xx would be taken for the POST's answer: a usage report counted as
// delivered that never reached reportUsage. The client returns the 3xx as
// an error instead, and nothing but the POST arrives.
func TestRedirectThatChangesTheMethodIsNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Method == http.MethodPost {
			http.Redirect(w, r, "/api/v1/customers/", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"count":0,"results":[]}`)
	}))
	defer srv.Close()
	c, err := NewClient(WithBaseURL(srv.URL+"/api/v1"), WithServerKey("sk_test_redirect"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ReportUsageWithResponse(context.Background(), api.ReportUsageJSONRequestBody{
		CustomerID: "c", FeatureID: "f", Behaviour: api.ReportUsageRequestBehaviourDELTA, Value: 1,
	})
	var kerr *Error
	if !errors.As(err, &kerr) || kerr.StatusCode != http.StatusFound {
		t.Fatalf("ReportUsage answered by a 302: result %v, error %v; want a *kelviq.Error with status 302", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "POST /api/v1/report/usage/" {
		t.Errorf("requests %q, want the POST alone", got)
	}
}
