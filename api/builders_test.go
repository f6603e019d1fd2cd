package api_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

// TestBuildersURLAsParsed checks that a built request's URL is the one
// http.NewRequest(method, u.String(), body) would have parsed: the builders
// hand the resolved URL to the request instead of formatting and parsing it
// again, and the server URL is parsed once for the last server. Tricky path
// values (escapes, spaces, non-ASCII, '%'), servers with a path, an empty
// port and a changing server (the cache must not serve the previous one).
func TestBuildersURLAsParsed(t *testing.T) {
	servers := []string{"https://api.kelviq.com/", "http://127.0.0.1:8080/base/v1/", "http://example.com:/", "https://h.example/p%20q/", "https://api.kelviq.com/"}
	values := []string{"plain", "a b", "x/y", "100%", "ü", "a%2Fb", "q?x#y", "semi;colon", "plus+sign"}
	search, size, page := "name with spaces & more", 20, 3
	for _, server := range servers {
		for _, v := range values {
			build := map[string]func() (*http.Request, error){
				"listCustomers": func() (*http.Request, error) {
					return api.NewListCustomersRequest(server, &api.ListCustomersParams{Search: &search, PageSize: &size, Page: &page})
				},
				"listCustomers(nil)":       func() (*http.Request, error) { return api.NewListCustomersRequest(server, nil) },
				"deleteCatalogPlanFeature": func() (*http.Request, error) { return api.NewDeleteCatalogPlanFeatureRequest(server, v, v+"2") },
				"createCustomer": func() (*http.Request, error) {
					return api.NewCreateCustomerRequest(server, api.CreateCustomerJSONRequestBody{})
				},
			}
			for name, f := range build {
				req, err := f()
				if err != nil {
					t.Fatalf("%s on %q with %q: %v", name, server, v, err)
				}
				want, err := url.Parse(req.URL.String())
				if err != nil {
					t.Fatal(err)
				}
				want.Host = trimEmptyPort(want.Host)
				if !reflect.DeepEqual(req.URL, want) {
					t.Errorf("%s on %q with %q: URL %#v, parsing its string gives %#v", name, server, v, req.URL, want)
				}
				if req.Host != want.Host {
					t.Errorf("%s on %q: Host %q, want %q", name, server, req.Host, want.Host)
				}
				if base, _ := url.Parse(server); req.URL.Host != trimEmptyPort(base.Host) || req.URL.Scheme != base.Scheme {
					t.Errorf("%s on %q: built on %s://%s", name, server, req.URL.Scheme, req.URL.Host)
				}
				if req.Context() != context.Background() {
					t.Errorf("%s: the exported builder's request has another context than Background", name)
				}
			}
		}
	}
}

func trimEmptyPort(h string) string {
	if len(h) > 0 && h[len(h)-1] == ':' {
		return h[:len(h)-1]
	}
	return h
}

// TestClientMethodKeepsContext checks that the generated client's request
// carries the caller's context (the builders now take it directly).
func TestClientMethodKeepsContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "mark")
	var got context.Context
	c, err := api.NewClient("http://127.0.0.1:1/", api.WithHTTPClient(doerFunc(func(req *http.Request) (*http.Response, error) {
		got = req.Context()
		return nil, context.Canceled
	})))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.ListPartnerOrganizations(ctx, nil)
	if got == nil || got.Value(key{}) != "mark" {
		t.Fatalf("the request's context lost the caller's value: %v", got)
	}
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// A nil context is an error naming it, not a panic, and nothing is sent.
func TestClientMethodNilContext(t *testing.T) {
	sent := false
	c, err := api.NewClient("http://127.0.0.1:1/", api.WithHTTPClient(doerFunc(func(*http.Request) (*http.Response, error) {
		sent = true
		return nil, context.Canceled
	})))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListPartnerOrganizations(nil, nil) //lint:ignore SA1012 the nil context is the point
	if err == nil || !strings.Contains(err.Error(), "nil Context") || sent {
		t.Fatalf("err %v, sent %v; want net/http's nil Context error and nothing sent", err, sent)
	}
}
