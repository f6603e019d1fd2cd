package kelviqtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// The fake remembers: a customer created is listed, usage reported shows
// in the entitlements, and a METER with a hard limit loses access once
// its usage reaches the limit. The seed is the documented ExampleSeed. In
// a test, kelviqtest.NewServer(t, …) starts the fake and closes it when
// the test ends; this example has no testing.T, so it serves NewHandler
// itself.
func Example() {
	h, err := kelviqtest.NewHandler(kelviqtest.WithSeed(bytes.NewReader(kelviqtest.ExampleSeed)))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(kelviqtest.ServerKey))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	if _, err := c.CreateCustomerWithResponse(ctx, api.CreateCustomerJSONRequestBody{CustomerID: "cust_new"}); err != nil {
		log.Fatal(err)
	}
	var ids []string
	for cust, err := range c.ListCustomersIter(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		ids = append(ids, cust.GetCustomerID())
	}
	fmt.Println(strings.Join(ids, " "))

	feature := "api-calls"
	for _, value := range []int{990, 10} {
		if _, err := c.ReportUsageWithResponse(ctx, api.ReportUsageJSONRequestBody{
			CustomerID: "cust_acme", FeatureID: feature, Behaviour: api.ReportUsageRequestBehaviourDELTA, Value: value,
		}); err != nil {
			log.Fatal(err)
		}
		res, err := c.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: "cust_acme", FeatureID: &feature})
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range res.JSON200.GetEntitlements() {
			fmt.Printf("%s: used %d, remaining %d, access %t\n", e.GetFeatureID(), e.GetCurrentUsage(), e.GetRemaining(), e.GetHasAccess())
		}
	}
	// Output:
	// cust_acme cust_globex cust_initech cust_new
	// api-calls: used 990, remaining 10, access true
	// api-calls: used 1000, remaining 0, access false
}

// With WithStateless the fake answers every operation with the spec's
// example, whatever was sent before. In a test, kelviqtest.NewServer(t)
// starts it and closes it when the test ends; this example has no
// testing.T, so it serves NewHandler itself.
func Example_stateless() {
	h, err := kelviqtest.NewHandler(kelviqtest.WithStateless())
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	c, err := kelviq.NewClient(
		kelviq.WithBaseURL(srv.URL),
		kelviq.WithServerKey(kelviqtest.ServerKey),
	)
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.ListCustomersWithResponse(context.Background(), &api.ListCustomersParams{})
	if err != nil {
		log.Fatal(err)
	}
	for _, cust := range res.JSON200.GetResults() {
		fmt.Println(cust.GetCustomerID(), cust.GetEmail())
	}
	for _, r := range h.Requests() {
		fmt.Println(r.Method, r.Path, r.OperationID, r.Status, r.Credentials)
	}
	// Output:
	// unique-customer-id-123 new.customer@example.com
	// GET /customers/ listCustomers 200 [bearerAuth]
}

// Faults and overrides simulate kelviq's failures: here the first request
// to listOrders fails with a 503, and retrieveSubscription answers the
// spec's documented 404.
func Example_faults() {
	h, err := kelviqtest.NewHandler(
		kelviqtest.WithStateless(),
		kelviqtest.WithFault("listOrders", kelviqtest.Fault{Status: 503, Times: 1}),
		kelviqtest.WithResponse("retrieveSubscription", 404, nil),
	)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, path := range []string{"/orders/", "/orders/", "/subscriptions/dffaf07e-4517-47db-ba3a-59a05aa2d465/"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+kelviqtest.ServerKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%d %s %.39s\n", res.StatusCode, h.Requests()[len(h.Requests())-1].OperationID, body)
	}
	// Output:
	// 503 listOrders {"detail":"Service Unavailable"}
	// 200 listOrders {"count":1,"next":null,"previous":null,
	// 404 retrieveSubscription {"detail":"Subscription not found."}
}
