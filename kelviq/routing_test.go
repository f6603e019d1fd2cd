package kelviq_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

func hasScheme(op api.Operation, s api.SecurityScheme) bool { return slices.Contains(op.Security, s) }

// Every operation, called through the client against a loopback server,
// carries exactly the credential its security names: the bearer server key,
// the partner key, or nothing.
func TestEveryOperationCarriesExactlyItsCredential(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		answerDeclared(w, r)
	}))
	defer srv.Close()

	c, err := kelviq.NewClient(
		kelviq.WithServerKey(testServerKey),
		kelviq.WithPartnerKey(testPartnerKey),
		kelviq.WithBaseURL(srv.URL),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(api.Operations) != 64 {
		t.Errorf("the table has %d operations, the vendored spec 64", len(api.Operations))
	}
	counts := map[string]int{}
	for _, op := range api.Operations {
		t.Run(op.ID, func(t *testing.T) {
			if err := callOperation(t, c, op); err != nil {
				t.Fatalf("call failed: %v", err)
			}
			reqs := rec.take()
			if len(reqs) != 1 {
				t.Fatalf("the server saw %d requests, want 1", len(reqs))
			}
			got := reqs[0]
			if got.Method != op.Method || !templateRegexp("", op.Path).MatchString(got.Path) {
				t.Errorf("the server saw %s %s, want %s %s", got.Method, got.Path, op.Method, op.Path)
			}
			auth, partner := got.Header.Get("Authorization"), got.Header.Get("X-Kelviq-Partner-Key")
			wantBearer := hasScheme(op, api.SecuritySchemeBearerAuth)
			wantPartner := hasScheme(op, api.SecuritySchemePartnerKeyAuth)
			switch {
			case wantBearer:
				counts["bearer"]++
				if auth != "Bearer "+testServerKey || partner != "" {
					t.Errorf("bearer operation: Authorization set %v, partner header set %v; want only the bearer key", auth != "", partner != "")
				}
			case wantPartner:
				counts["partner"]++
				if partner != testPartnerKey || auth != "" {
					t.Errorf("partner operation: partner header set %v, Authorization set %v; want only the partner key", partner != "", auth != "")
				}
			default:
				counts["none"]++
				if auth != "" || partner != "" {
					t.Errorf("operation without security carried a credential (Authorization %v, partner %v)", auth != "", partner != "")
				}
			}
			if ua := got.Header.Get("User-Agent"); !strings.HasPrefix(ua, "kelviq-go/"+kelviq.Version+" go") {
				t.Errorf("User-Agent %q", ua)
			}
		})
	}
	// The spec today: 59 bearer, 4 partner, 1 without (the plan-file download).
	if counts["bearer"] != 59 || counts["partner"] != 4 || counts["none"] != 1 {
		t.Errorf("credential kinds %v, want bearer 59, partner 4, none 1", counts)
	}
}

// specServers reads each operation's servers from openapi.json directly
// (operation, else path, else top level) — independently of the generated
// table — and picks the one for env by host name.
func specServers(t *testing.T) map[string]map[kelviq.Environment]string {
	t.Helper()
	data, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	type server struct {
		URL string `json:"url"`
	}
	var doc struct {
		Servers []server                              `json:"servers"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	pick := func(list []server) map[kelviq.Environment]string {
		m := map[kelviq.Environment]string{}
		for _, s := range list {
			u, _ := url.Parse(s.URL)
			if strings.Contains(u.Host, "sandbox") {
				m[kelviq.Sandbox] = s.URL
			} else {
				m[kelviq.Production] = s.URL
			}
		}
		return m
	}
	out := map[string]map[kelviq.Environment]string{}
	for path, item := range doc.Paths {
		var pathServers []server
		if raw, ok := item["servers"]; ok {
			_ = json.Unmarshal(raw, &pathServers)
		}
		for method, raw := range item {
			if method == "servers" || method == "parameters" {
				continue
			}
			var op struct {
				Servers []server `json:"servers"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			list := doc.Servers
			if len(op.Servers) > 0 {
				list = op.Servers
			} else if len(pathServers) > 0 {
				list = pathServers
			}
			out[strings.ToUpper(method)+" "+path] = pick(list)
		}
	}
	return out
}

// In each environment every operation goes to its own host, as the spec's
// servers say, seen through a recording transport given in WithHTTPClient.
func TestEveryOperationGoesToItsHost(t *testing.T) {
	want := specServers(t)
	for _, env := range []kelviq.Environment{kelviq.Production, kelviq.Sandbox} {
		t.Run(string(env), func(t *testing.T) {
			rec := &recorder{}
			c, err := kelviq.NewClient(
				kelviq.WithServerKey(testServerKey),
				kelviq.WithPartnerKey(testPartnerKey),
				kelviq.WithEnvironment(env),
				kelviq.WithHTTPClient(&http.Client{Transport: rec}),
			)
			if err != nil {
				t.Fatal(err)
			}
			hosts := map[string]int{}
			for _, op := range api.Operations {
				if err := callOperation(t, c, op); err != nil {
					t.Errorf("%s: %v", op.ID, err)
					continue
				}
				reqs := rec.take()
				if len(reqs) != 1 {
					t.Fatalf("%s: %d requests", op.ID, len(reqs))
				}
				base := want[op.Method+" "+op.Path][env]
				if base == "" {
					t.Fatalf("%s: the spec has no %s server", op.ID, env)
				}
				u, _ := url.Parse(reqs[0].URL)
				if !templateRegexp(base, op.Path).MatchString(u.Scheme + "://" + u.Host + u.EscapedPath()) {
					t.Errorf("%s went to %s, want %s%s", op.ID, reqs[0].URL, base, op.Path)
				}
				hosts[u.Host]++
			}
			// Anchors stated by hand, so that a wrong reading of the spec
			// in both the table and this test cannot pass unnoticed.
			core, edge := "api.kelviq.com", "edge.api.kelviq.com"
			if env == kelviq.Sandbox {
				core, edge = "sandboxapi.kelviq.com", "edge.sandboxapi.kelviq.com"
			}
			if hosts[core] != 62 || hosts[edge] != 2 || len(hosts) != 2 {
				t.Errorf("requests per host %v, want %s: 62 and %s: 2 (entitlements, promotions)", hosts, core, edge)
			}
		})
	}
}

// WithBaseURL sends every operation, edge ones included, to the base URL,
// and WithEdgeURL moves only the edge operations.
func TestBaseURLAndEdgeURL(t *testing.T) {
	rec := &recorder{}
	c, err := kelviq.NewClient(
		kelviq.WithServerKey(testServerKey),
		kelviq.WithBaseURL("https://proxy.example/kelviq/"),
		kelviq.WithHTTPClient(&http.Client{Transport: rec}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: "cus 1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomersWithResponse(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if got[0].URL != "https://proxy.example/kelviq/entitlements/?customer_id=cus+1" || got[1].URL != "https://proxy.example/kelviq/customers/" {
		t.Errorf("got %s and %s", got[0].URL, got[1].URL)
	}

	c, err = kelviq.NewClient(
		kelviq.WithServerKey(testServerKey),
		kelviq.WithBaseURL("http://127.0.0.1:9"),
		kelviq.WithEdgeURL("http://localhost:10/edge/v1"),
		kelviq.WithHTTPClient(&http.Client{Transport: rec}),
	)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.GetPromotionWithResponse(ctx, &api.GetPromotionParams{})
	_, _ = c.RetrieveOrderWithResponse(ctx, "ord/1")
	got = rec.take()
	if !strings.HasPrefix(got[0].URL, "http://localhost:10/edge/v1/promotions") || got[1].URL != "http://127.0.0.1:9/orders/ord%2F1/" {
		t.Errorf("got %s and %s", got[0].URL, got[1].URL)
	}
}

// A call whose operation needs a key the client was not given fails before
// anything is sent, naming the option to use.
func TestMissingCredentialFailsBeforeSending(t *testing.T) {
	rec := &recorder{}
	serverOnly, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	partnerOnly, err := kelviq.NewClient(kelviq.WithPartnerKey(testPartnerKey), kelviq.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	_, err = serverOnly.ListPartnerOrganizationsWithResponse(ctx, nil)
	if !errors.Is(err, kelviq.ErrMissingCredential) || !strings.Contains(err.Error(), "WithPartnerKey") {
		t.Errorf("partner operation without a partner key: %v", err)
	}
	_, err = partnerOnly.ListCustomersWithResponse(ctx, nil)
	if !errors.Is(err, kelviq.ErrMissingCredential) || !strings.Contains(err.Error(), "WithServerKey") {
		t.Errorf("bearer operation without a server key: %v", err)
	}
	if n := len(rec.take()); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
	// The download takes no credential, so either client can call it.
	if _, err := partnerOnly.DownloadCatalogPlanFileWithResponse(ctx, "pro", [16]byte{}); err != nil {
		t.Errorf("download: %v", err)
	}
	if got := rec.take(); len(got) != 1 || got[0].Header.Get("X-Kelviq-Partner-Key") != "" {
		t.Errorf("download: %d requests, or it carried the partner key", len(got))
	}
}

// A credential set by a caller's own request editor, per client or per
// call, does not go to an operation that does not name it: routing runs
// after every editor and sets exactly the operation's credential.
func TestForeignCredentialHeadersAreRemoved(t *testing.T) {
	rec := &recorder{}
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	leak := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+testServerKey)
		req.Header.Set("X-Kelviq-Partner-Key", testPartnerKey)
		req.Header.Set("X-Trace", "kept")
		return nil
	}
	if _, err := c.DownloadCatalogPlanFileWithResponse(t.Context(), "pro", [16]byte{}, leak); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomersWithResponse(t.Context(), nil, leak); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if h := got[0].Header; h.Get("Authorization") != "" || h.Get("X-Kelviq-Partner-Key") != "" || h.Get("X-Trace") != "kept" {
		t.Errorf("download: Authorization %v, partner key %v, other headers kept %v",
			h.Get("Authorization") != "", h.Get("X-Kelviq-Partner-Key") != "", h.Get("X-Trace") == "kept")
	}
	if h := got[1].Header; h.Get("X-Kelviq-Partner-Key") != "" || h.Get("Authorization") != "Bearer "+testServerKey {
		t.Error("bearer operation: the partner key went along, or the server key is missing")
	}
}

// The caller's *http.Client is wrapped, not modified, and its transport
// stays in the chain.
func TestCallerHTTPClientStaysInTheChain(t *testing.T) {
	rec := &recorder{}
	hc := &http.Client{Transport: rec}
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithHTTPClient(hc), kelviq.WithUserAgent("acme-billing/2.1"))
	if err != nil {
		t.Fatal(err)
	}
	if hc.Transport != rec || hc.CheckRedirect != nil || hc.Timeout != 0 {
		t.Error("NewClient modified the caller's http.Client")
	}
	if _, err := c.ListCustomersWithResponse(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if len(got) != 1 {
		t.Fatalf("the caller's transport saw %d requests, want 1", len(got))
	}
	if ua := got[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, "kelviq-go/") || !strings.HasSuffix(ua, " acme-billing/2.1") {
		t.Errorf("User-Agent %q: want ours followed by the caller's", ua)
	}
}

// A request editor that turns https into http (a careless "use the local
// proxy" edit) does not get the key sent in clear to the API's host: the
// router refuses a request whose scheme is not the base URL's, as it
// refuses another host.
func TestEditorDowngradingTheSchemeSendsNothing(t *testing.T) {
	rec := &recorder{}
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	toHTTP := func(_ context.Context, req *http.Request) error {
		req.URL.Scheme = "http"
		return nil
	}
	_, err = c.ListCustomersWithResponse(t.Context(), nil, toHTTP)
	if !errors.Is(err, kelviq.ErrUnknownOperation) {
		t.Errorf("error %v, want ErrUnknownOperation", err)
	}
	for _, r := range rec.take() {
		t.Errorf("sent %s %s (with a key: %v)", r.Method, r.URL, r.Header.Get("Authorization") != "")
	}
	// Unedited, it goes out over https.
	if _, err := c.ListCustomersWithResponse(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || !strings.HasPrefix(got[0].URL, "https://") {
		t.Errorf("sent %+v", got)
	}
}
