// Package bench holds the benchmarks of the client against a hand-written
// net/http baseline and the stock oapi-codegen output (package stockapi).
// `make bench` runs them and prints the ratios; BENCHMARKS.md records them.
package bench

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/bench/stockapi"
	"github.com/kelviq/kelviq-go/kelviq"
)

const (
	serverKey  = "sk_test_bench"
	partnerKey = "kvqp_bench"
)

func newClient(b *testing.B, url string) *kelviq.Client {
	c, err := kelviq.NewClient(kelviq.WithServerKey(serverKey), kelviq.WithPartnerKey(partnerKey), kelviq.WithBaseURL(url))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// handWritten is the floor: the same request with the same header through
// net/http, decoded with encoding/json into the same generated type.
func handWritten[T any](ctx context.Context, hc *http.Client, url, header, value string) (*T, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(header, value)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func BenchmarkListPartnerOrganizations(b *testing.B) {
	srv := newServer(b, map[string][]byte{"/partner/organizations/": onePartnerOrg})
	ctx := context.Background()
	b.Run("kelviq", func(b *testing.B) {
		c := newClient(b, srv.URL)
		b.ReportAllocs()
		for b.Loop() {
			res, err := c.ListPartnerOrganizationsWithResponse(ctx, nil)
			if err != nil || len(res.JSON200.Results) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline", func(b *testing.B) {
		hc := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			v, err := handWritten[api.PartnerOrganizationList](ctx, hc, srv.URL+"/partner/organizations/", "X-Kelviq-Partner-Key", partnerKey)
			if err != nil || len(v.Results) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkListCustomers100(b *testing.B) {
	srv := newServer(b, map[string][]byte{"/customers/": customersPage(100)})
	ctx := context.Background()
	b.Run("kelviq", func(b *testing.B) {
		c := newClient(b, srv.URL)
		b.ReportAllocs()
		for b.Loop() {
			res, err := c.ListCustomersWithResponse(ctx, nil)
			if err != nil || len(res.JSON200.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline", func(b *testing.B) {
		hc := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			v, err := handWritten[api.CustomerListResponse](ctx, hc, srv.URL+"/customers/", "Authorization", "Bearer "+serverKey)
			if err != nil || len(v.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("stock", func(b *testing.B) {
		// oapi-codegen's own output with nullable-type: true (a map per
		// nullable field), through its own client.
		c, err := stockapi.NewClientWithResponses(srv.URL, stockapi.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+serverKey)
			return nil
		}))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			res, err := c.ListCustomersWithResponse(ctx, nil)
			if err != nil || len(res.JSON200.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParallel shares one client between GOMAXPROCS goroutines and
// reports the connections the server accepted: keep-alive must hold them
// to a handful (bodies drained and closed).
func BenchmarkParallel(b *testing.B) {
	bodies := map[string][]byte{"/partner/organizations/": onePartnerOrg, "/customers/": customersPage(100)}
	ctx := context.Background()
	b.Run("kelviq", func(b *testing.B) {
		srv := newServer(b, bodies)
		c := newClient(b, srv.URL)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := c.ListCustomersWithResponse(ctx, nil)
				if err != nil || len(res.JSON200.Results) != 100 {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(srv.conns.Load()), "conns")
	})
	b.Run("baseline", func(b *testing.B) {
		srv := newServer(b, bodies)
		hc := &http.Client{}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v, err := handWritten[api.CustomerListResponse](ctx, hc, srv.URL+"/customers/", "Authorization", "Bearer "+serverKey)
				if err != nil || len(v.Results) != 100 {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(srv.conns.Load()), "conns")
	})
}
