package kelviq_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// A call made with the context of another call's request (a middleware
// that calls the client, with req.Context()) does not inherit that call's
// per-call options: Idempotent on the outer call made the inner POST be
// sent again on a 503 (a second customer), WithCallRetries gave it the
// outer call's retries.
func TestCallOptionsDoNotLeakIntoNestedCalls(t *testing.T) {
	srv := kelviqtest.NewServer(t,
		kelviqtest.WithFault(api.OpCreateCustomer, kelviqtest.Fault{Status: http.StatusServiceUnavailable}),
		kelviqtest.WithFault(api.OpGetCustomerEntitlements, kelviqtest.Fault{Status: http.StatusServiceUnavailable}))
	var c *kelviq.Client
	nested := func(req *http.Request, op kelviq.Operation, next kelviq.MiddlewareNext) (*http.Response, error) {
		if op.Attempt == 0 && op.ID == "listCustomers" {
			_, _ = c.CreateCustomerWithResponse(req.Context(), api.CreateCustomerJSONRequestBody{CustomerID: "nested"})
			_, _ = c.GetCustomerEntitlementsWithResponse(req.Context(), &api.GetCustomerEntitlementsParams{CustomerID: "nested"})
		}
		return next(req)
	}
	var err error
	c, err = kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithRetries(0),
		kelviq.WithRetryPolicy(kelviq.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}),
		kelviq.WithMiddleware(nested))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomersWithResponse(context.Background(), nil, kelviq.Idempotent(), kelviq.WithCallRetries(5)); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range srv.Requests() {
		count[r.OperationID]++
	}
	if count["createCustomer"] != 1 {
		t.Errorf("the nested POST was sent %d times, want once (the outer call's Idempotent reached it)", count["createCustomer"])
	}
	if count["getCustomerEntitlements"] != 1 {
		t.Errorf("the nested GET was sent %d times, want once (the outer call's WithCallRetries reached it)", count["getCustomerEntitlements"])
	}
}
