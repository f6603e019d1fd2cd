package kelviq_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// An API error is a *kelviq.Error: branch on its status with errors.Is and
// the sentinels, or read its fields with errors.As. Network failures and a
// cancelled context are not *kelviq.Error.
func ExampleError_branching() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req_8f14e45f")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail": "Order not found."}`)
	}))
	defer srv.Close()

	client, err := kelviq.NewClient(kelviq.WithServerKey("sk_live_your_key"), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.RetrieveOrderWithResponse(context.Background(), "ORD-20260729103000-AB3K9")

	var apiErr *kelviq.Error
	switch {
	case errors.Is(err, kelviq.ErrNotFound):
		fmt.Println("no such order")
	case errors.Is(err, kelviq.ErrRateLimited), errors.Is(err, kelviq.ErrServerError):
		fmt.Println("try again later")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		fmt.Println("gave up waiting")
	}
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Operation, apiErr.PathTemplate)
		fmt.Println(apiErr.Message)
		fmt.Println("request ID:", apiErr.RequestID)
	}
	fmt.Println(err)
	// Output:
	// no such order
	// 404 retrieveOrder /orders/{id}/
	// Order not found.
	// request ID: req_8f14e45f
	// kelviq: retrieveOrder (GET /orders/{id}/): 404 Not Found: Order not found. (request ID req_8f14e45f)
}

// A validation error carries the message and the errors of each field.
func ExampleError_fieldErrors() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error": "Invalid refund.", "amountUnits": ["Ensure this value is greater than 0."]}`)
	}))
	defer srv.Close()

	client, err := kelviq.NewClient(kelviq.WithServerKey("sk_live_your_key"), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	units := int64(0)
	_, err = client.CreateRefundWithResponse(context.Background(), api.RefundCreateRequest{OrderID: "ORD-1", AmountUnits: &units})
	if apiErr, ok := errors.AsType[*kelviq.Error](err); ok {
		fmt.Println(apiErr.Message)
		fmt.Println(apiErr.FieldErrors["amountUnits"])
	}
	// Output:
	// Invalid refund.
	// [Ensure this value is greater than 0.]
}

// ListCustomersIter walks every page of the customers list; the loop
// variable err, when not nil, is the last element.
func ExampleClient_ListCustomersIter() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Three customers, two a page.
		pages := map[string]string{
			"1": `{"count": 3, "next": "https://api.kelviq.com/api/v1/customers/?page=2", "previous": null, "results": [{"customerId": "cus_1"}, {"customerId": "cus_2"}]}`,
			"2": `{"count": 3, "next": null, "previous": "https://api.kelviq.com/api/v1/customers/?page=1", "results": [{"customerId": "cus_3"}]}`,
		}
		fmt.Printf("server: page %s of %s\n", r.URL.Query().Get("page"), r.URL.Query().Get("page_size"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, pages[r.URL.Query().Get("page")])
	}))
	defer srv.Close()

	client, err := kelviq.NewClient(kelviq.WithServerKey("sk_live_your_key"), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	pageSize := 2
	for customer, err := range client.ListCustomersIter(context.Background(), &api.ListCustomersParams{PageSize: &pageSize}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(customer.GetCustomerID())
	}
	// Output:
	// server: page 1 of 2
	// cus_1
	// cus_2
	// server: page 2 of 2
	// cus_3
}

// A usage report with behaviour SET may be sent twice without harm, so the
// caller marks it Idempotent: it is retried like a GET. A DELTA, or any POST
// not marked, is never sent twice.
func ExampleIdempotent() {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"behaviour": "SET", "customerId": "cus_1", "featureId": "seats", "value": 12}`)
	}))
	defer srv.Close()

	client, err := kelviq.NewClient(
		kelviq.WithServerKey("sk_live_your_key"),
		kelviq.WithBaseURL(srv.URL),
		kelviq.WithRetryPolicy(kelviq.RetryPolicy{BaseDelay: time.Millisecond}), // short waits for the example
	)
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.ReportUsageWithResponse(context.Background(), api.ReportUsageRequest{
		Behaviour:  api.ReportUsageRequestBehaviourSET,
		CustomerID: "cus_1",
		FeatureID:  "seats",
		Value:      12,
	}, kelviq.Idempotent())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode(), "after", strconv.Itoa(int(requests.Load())), "requests")
	// Output:
	// 200 after 2 requests
}

// A path parameter that would make the call another operation's ("..",
// ".", "") is refused before anything is sent. Values that come from end
// users are safe to pass: anything else is escaped into one segment.
func ExampleErrInvalidParameter() {
	client, err := kelviq.NewClient(kelviq.WithServerKey("sk_live_your_key"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.DeleteCatalogPlanFeatureWithResponse(context.Background(), "plan_1", "..")
	fmt.Println(errors.Is(err, kelviq.ErrInvalidParameter))
	fmt.Println(err)
	// Output:
	// true
	// kelviq: invalid parameter: deleteCatalogPlanFeature: path parameter feature_id is "..", which the URL would resolve away (the request would reach another operation)
}

// A success status whose body is not what the spec declares (here an empty
// 201) is an error, so a nil error means the JSONxxx field is there.
func ExampleErrUnexpectedResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()

	client, err := kelviq.NewClient(kelviq.WithServerKey("sk_live_your_key"), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.CreateCustomerWithResponse(context.Background(), api.CreateCustomerJSONRequestBody{CustomerID: "cus_1"})
	if errors.Is(err, kelviq.ErrUnexpectedResponse) {
		fmt.Println(err)
		return
	}
	fmt.Println(res.JSON201 != nil) // not reached here
	// Output:
	// kelviq: unexpected response: createCustomer: status 201 with an empty body (Content-Type "application/json"), the spec declares a JSON body
}
