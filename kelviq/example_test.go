package kelviq_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// fakeKelviq stands in for the API in the examples: it answers each path
// with a fixed JSON body and says which credential it received.
func fakeKelviq() *httptest.Server {
	bodies := map[string]string{
		"/customers/":             `{"count":1,"next":null,"previous":null,"results":[{"customerId":"cus_42","email":"ada@example.com","name":"Ada"}]}`,
		"/partner/organizations/": `{"count":1,"results":[{"organizationSlug":"acme-corp","partnerExternalId":"acme-42"}]}`,
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "":
			fmt.Println("server saw: bearer key")
		case r.Header.Get("X-Kelviq-Partner-Key") != "":
			fmt.Println("server saw: partner key")
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, bodies[r.URL.Path])
	}))
}

// A client with the server key calls every operation whose security is
// bearerAuth. In production code the key comes from your secret store and
// no base URL is set.
func ExampleNewClient() {
	srv := fakeKelviq() // stands in for https://api.kelviq.com
	defer srv.Close()

	client, err := kelviq.NewClient(
		kelviq.WithServerKey("sk_live_your_key"),
		kelviq.WithBaseURL(srv.URL),
	)
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.ListCustomersWithResponse(context.Background(), &api.ListCustomersParams{})
	if err != nil {
		log.Fatal(err)
	}
	// The accessors (GetX) are nil-safe: an absent field reads as "".
	for _, c := range res.JSON200.GetResults() {
		fmt.Println(c.GetCustomerID(), c.GetEmail())
	}
	// Output:
	// server saw: bearer key
	// cus_42 ada@example.com
}

// The partner key provisions and lists whole organizations. It is sent only
// to the partner operations; a client may hold both keys.
func ExampleWithPartnerKey() {
	srv := fakeKelviq()
	defer srv.Close()

	client, err := kelviq.NewClient(
		kelviq.WithPartnerKey("kvqp_your_partner_key"),
		kelviq.WithBaseURL(srv.URL),
	)
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.ListPartnerOrganizationsWithResponse(context.Background(), &api.ListPartnerOrganizationsParams{})
	if err != nil {
		log.Fatal(err)
	}
	for _, org := range res.JSON200.GetResults() {
		fmt.Println(org.GetOrganizationSlug(), org.GetPartnerExternalID())
	}

	// A server-key operation on this client fails before anything is sent.
	_, err = client.ListCustomersWithResponse(context.Background(), nil)
	fmt.Println(err)
	// Output:
	// server saw: partner key
	// acme-corp acme-42
	// kelviq: missing credential: listCustomers (GET /customers/) needs a server key: pass kelviq.WithServerKey
}

// printURL is a transport that prints each request's URL instead of sending it.
type printURL struct{}

func (printURL) RoundTrip(r *http.Request) (*http.Response, error) {
	fmt.Println(r.Method, r.URL)
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
}

// In the sandbox every operation goes to its sandbox host: the core API, or
// the edge API for entitlements and promotions. Use a sandbox key.
func ExampleWithEnvironment() {
	client, err := kelviq.NewClient(
		kelviq.WithServerKey("sk_test_your_sandbox_key"),
		kelviq.WithEnvironment(kelviq.Sandbox),
		kelviq.WithHTTPClient(&http.Client{Transport: printURL{}}),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_, _ = client.ListCustomersWithResponse(ctx, nil)
	_, _ = client.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: "cus_42"})
	// Output:
	// GET https://sandboxapi.kelviq.com/api/v1/customers/
	// GET https://edge.sandboxapi.kelviq.com/api/v1/entitlements/?customer_id=cus_42
}

// FromEnv reads the variables kelviq's CLI uses, only when asked.
func ExampleFromEnv() {
	client, err := kelviq.NewClient(kelviq.FromEnv())
	if err != nil {
		// e.g. no KELVIQ_SERVER_API_KEY, KELVIQ_SANDBOX_SERVER_API_KEY or
		// KELVIQ_PARTNER_KEY in the environment
		log.Print(err)
		return
	}
	fmt.Println(client.Environment())
}

// A PATCH sends only what was set: an absent nullable field is left out, and
// SetNull sends an explicit null that clears the field.
func ExampleClient_UpdateCustomerWithResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path, string(body))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"customerId":"cus_42","name":"Ada Lovelace","email":null}`)
	}))
	defer srv.Close()
	client, err := kelviq.NewClient(kelviq.WithServerKey("sk_live_your_key"), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	var body api.UpdateCustomerJSONRequestBody
	body.Name.Set("Ada Lovelace")
	body.Email.SetNull()
	res, err := client.UpdateCustomerWithResponse(context.Background(), "cus_42", body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("name %q, email %q\n", res.JSON200.GetName(), res.JSON200.GetEmail())
	// Output:
	// PATCH /customers/cus_42/ {"email":null,"name":"Ada Lovelace"}
	// name "Ada Lovelace", email ""
}
