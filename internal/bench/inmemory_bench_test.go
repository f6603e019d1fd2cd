package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// memoryTransport answers every request with fixed bytes, without a
// network: it takes the syscalls and the scheduler (most of a loopback
// call's time, and most of its noise) out of the comparison, so what remains
// is what the client adds.
type memoryTransport struct{ body []byte }

func (m memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(m.body))}},
		ContentLength: int64(len(m.body)),
		Body:          io.NopCloser(bytes.NewReader(m.body)),
		Request:       req,
	}, nil
}

// BenchmarkInMemory is BenchmarkListPartnerOrganizations and
// BenchmarkListCustomers100 through an in-memory transport.
func BenchmarkInMemory(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, path string
		body       []byte
	}{
		{"Partner", "/partner/organizations/", onePartnerOrg},
		{"Customers100", "/customers/", customersPage(100)},
	} {
		hc := &http.Client{Transport: memoryTransport{tc.body}}
		b.Run(tc.name+"/kelviq", func(b *testing.B) {
			c, err := kelviq.NewClient(kelviq.WithServerKey(serverKey), kelviq.WithPartnerKey(partnerKey),
				kelviq.WithBaseURL("http://127.0.0.1:1"), kelviq.WithHTTPClient(&http.Client{Transport: memoryTransport{tc.body}, Timeout: kelviq.DefaultTimeout}))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if tc.name == "Partner" {
					_, err = c.ListPartnerOrganizationsWithResponse(ctx, nil)
				} else {
					_, err = c.ListCustomersWithResponse(ctx, nil)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/baseline", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if tc.name == "Partner" {
					_, err = handWritten[api.PartnerOrganizationList](ctx, hc, "http://127.0.0.1:1"+tc.path, "X-Kelviq-Partner-Key", partnerKey)
				} else {
					_, err = handWritten[api.CustomerListResponse](ctx, hc, "http://127.0.0.1:1"+tc.path, "Authorization", "Bearer "+serverKey)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
