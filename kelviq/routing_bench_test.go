package kelviq

import (
	"net/http"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

// BenchmarkRoute measures what the client adds to every request before it
// is sent: finding the operation from method and path, setting its
// credential, and moving it to its host (production, so the edge operation
// is rewritten). Goal: ≤ 1 µs and ≤ 2 allocs per request.
func BenchmarkRoute(b *testing.B) {
	s := &settings{serverKey: "sk_test_bench", partnerKey: "kvqp_bench", env: Production}
	r, err := newRouter(s)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct{ name, method, path string }{
		{"core", http.MethodGet, "/customers/"},                                                            // first path in the table's order
		{"deep", http.MethodPatch, "/catalog/plans/pro/features/feat_1/"},                                  // several parameters
		{"partner", http.MethodGet, "/partner/organizations/by-external-id/acme/"},                         // literal beats parameter
		{"edge", http.MethodGet, "/entitlements/"},                                                         // host rewritten
		{"last", http.MethodGet, "/catalog/plans/pro/file/8e1d7b1a-6c4d-4e3a-9b2d-3f6e4c2b1ad0/download/"}, // no credential
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			req, err := http.NewRequest(tc.method, r.base.String()+tc.path, nil)
			if err != nil {
				b.Fatal(err)
			}
			orig, host := *req.URL, req.Host
			b.ReportAllocs()
			for b.Loop() {
				*req.URL, req.Host = orig, host // undo the previous rewrite
				if err := r.edit(req.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The benchmark's requests must really be routed as production routes them.
func TestRouteBenchmarkCases(t *testing.T) {
	op, _ := operations.lookup(http.MethodGet, "/partner/organizations/by-external-id/acme/")
	if op == nil || op.ID != "retrievePartnerOrganizationByExternalId" {
		t.Fatalf("lookup chose %v", op)
	}
	op, _ = operations.lookup(http.MethodGet, "/partner/organizations/acme/")
	if op == nil || op.ID != "retrievePartnerOrganization" {
		t.Fatalf("lookup chose %v", op)
	}
	for _, bad := range []string{"/customers", "/customers//", "/customers/x/y/", "", "/", "/catalog/plans//prices/"} {
		if op, _ := operations.lookup(http.MethodGet, bad); op != nil {
			t.Errorf("%q matched %s", bad, op.ID)
		}
	}
	s := &settings{serverKey: "sk_test_bench", env: Production}
	r, _ := newRouter(s)
	req, _ := http.NewRequest(http.MethodGet, r.base.String()+"/entitlements/?customer_id=c", nil)
	if err := r.edit(req.Context(), req); err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "https://edge.api.kelviq.com/api/v1/entitlements/?customer_id=c" || req.Host != "edge.api.kelviq.com" {
		t.Errorf("edge request went to %s (Host %s)", req.URL, req.Host)
	}
	_ = api.Operations
}
