package kelviqtest_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// The fake keeps what it is sent within its Limits: past one, the oldest
// goes first and Stats counts it. Requests reads back what was sent (in a
// test: srv.Requests() on kelviqtest.NewServer(t, …)).
func ExampleWithLimits() {
	h, err := kelviqtest.NewHandler(kelviqtest.WithLimits(kelviqtest.Limits{Customers: 2, Requests: 3}))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(kelviqtest.ServerKey))
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		if _, err := c.CreateCustomerWithResponse(context.Background(), api.CreateCustomerJSONRequestBody{CustomerID: id}); err != nil {
			log.Fatal(err)
		}
	}
	st := h.Stats()
	fmt.Println("customers kept:", st.Stored.Customers, "dropped:", st.Dropped.Customers)
	fmt.Println("requests kept:", st.Stored.Requests, "dropped:", st.Dropped.Requests)
	for _, r := range h.Requests() {
		fmt.Println(r.OperationID, r.Status, string(r.Body))
	}
	// Output:
	// customers kept: 2 dropped: 2
	// requests kept: 3 dropped: 1
	// createCustomer 201 {"customerId":"c2"}
	// createCustomer 201 {"customerId":"c3"}
	// createCustomer 201 {"customerId":"c4"}
}
