package bench

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// onePartnerOrg is the documented example of GET /partner/organizations/.
var onePartnerOrg = []byte(`{"results":[{"userId":4271,"organizationIdentifier":"8e1d7b1a-6c4d-4e3a-9b2d-3f6e4c2b1ad0","organizationSlug":"acme-corp","clientKey":"ck_live_a1b2c3d4e5f6","serverKey":"sk_live_9z8y7x6w5v4u","partnerExternalId":"acme-corp"}],"count":1}`)

// customersPage returns a page of n customers shaped like the spec's example
// of GET /customers/, each with every field set.
func customersPage(n int) []byte {
	type address struct {
		Country    string `json:"country"`
		Line1      string `json:"line1"`
		Line2      string `json:"line2"`
		PostalCode string `json:"postalCode"`
		City       string `json:"city"`
		State      string `json:"state"`
	}
	type customer struct {
		ID             string            `json:"id"`
		CustomerID     string            `json:"customerId"`
		Name           string            `json:"name"`
		Email          string            `json:"email"`
		Details        map[string]any    `json:"details"`
		Metadata       map[string]string `json:"metadata"`
		BillingAddress address           `json:"billingAddress"`
		CreatedOn      string            `json:"createdOn"`
		ModifiedOn     string            `json:"modifiedOn"`
	}
	page := struct {
		Count    int        `json:"count"`
		Next     *string    `json:"next"`
		Previous *string    `json:"previous"`
		Results  []customer `json:"results"`
	}{Count: n}
	for i := range n {
		page.Results = append(page.Results, customer{
			ID:             fmt.Sprintf("a1b2c3d4-e5f6-7890-1234-%012d", i),
			CustomerID:     fmt.Sprintf("unique-customer-id-%d", i),
			Name:           "John Doe",
			Email:          fmt.Sprintf("customer%d@example.com", i),
			Details:        map[string]any{},
			Metadata:       map[string]string{"source": "sdk_import", "priority": "high"},
			BillingAddress: address{"IN", "123 Main Street", "Apt 4B", "560001", "Bangalore", "Karnataka"},
			CreatedOn:      "2025-06-04T06:03:30.195790Z",
			ModifiedOn:     "2025-06-04T06:03:30.195831Z",
		})
	}
	data, err := json.Marshal(page)
	if err != nil {
		panic(err)
	}
	return data
}

// server is a loopback kelviq answering fixed bytes per path, counting the
// connections it accepts.
type server struct {
	*httptest.Server
	conns atomic.Int64
}

func newServer(tb testing.TB, bodies map[string][]byte) *server {
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// As an API server does (and as net/http does itself for bodies
		// under 2 KiB); a larger body would otherwise go out chunked.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	tb.Cleanup(s.Close)
	return s
}
