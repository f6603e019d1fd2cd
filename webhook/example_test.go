package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

// exampleBody is a shortened order.created delivery.
const exampleBody = `{"id":"evt_1","type":"order.created","created_at":"2026-04-01T17:36:41Z",` +
	`"data":{"object":{"object":"order","id":"ORD-20260401173639-H8IO7","status":"COMPLETE",` +
	`"amount_total":"10.00","amount_total_units":1000,"currency":"USD"}}}`

// exampleNow stands in for the current time, so the output does not depend on the clock.
var exampleNow = time.Date(2026, 4, 1, 17, 36, 42, 0, time.UTC)

func ExampleVerify() {
	const secret = "kq_whsec_example" // the endpoint's secret, from kelviq's dashboard
	body := []byte(exampleBody)
	// What kelviq sends along with the body.
	header := webhook.Sign(body, "msg_1", exampleNow, secret)

	// In a receiver, body is the raw request body and header is r.Header; leave out
	// WithNow to check timestamps against the real clock.
	event, err := webhook.Verify(body, header, secret, webhook.WithNow(func() time.Time { return exampleNow }))
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	order, err := event.Order()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(event.Type, order.ID, order.Status, order.AmountTotal, order.Currency)

	// One byte changed and the delivery is refused.
	forged := []byte(strings.Replace(exampleBody, "10.00", "90.00", 1))
	_, err = webhook.Verify(forged, header, secret, webhook.WithNow(func() time.Time { return exampleNow }))
	fmt.Println(errors.Is(err, webhook.ErrNoMatchingSignature), err)
	// Output:
	// order.created ORD-20260401173639-H8IO7 COMPLETE 10.00 USD
	// true webhook: no matching signature
}

func ExampleNewHandler() {
	const secret = "kq_whsec_example"
	h := webhook.NewHandler(secret, func(ctx context.Context, e *webhook.Event) error {
		switch e.Type {
		case webhook.EventOrderCreated:
			order, err := e.Order()
			if err != nil {
				return err // answered 500: kelviq delivers the event again later
			}
			fmt.Println("fulfil", order.ID, "for", order.AmountTotal, order.Currency)
		default:
			fmt.Println("ignore", e.Type)
		}
		return nil // answered 200
	}, webhook.WithNow(func() time.Time { return exampleNow }))
	// In a server: http.Handle("POST /webhooks/kelviq", h)

	send := func(body string, header http.Header) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/kelviq", strings.NewReader(body))
		for k, v := range header {
			req.Header[k] = v
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	header := webhook.Sign([]byte(exampleBody), "msg_1", exampleNow, secret)
	send(exampleBody, header)                                                                      // processed
	send(exampleBody, header)                                                                      // a retry: not processed twice
	send(exampleBody, webhook.Sign([]byte(exampleBody), "msg_2", exampleNow, "kq_whsec_not_ours")) // forged
	// Output:
	// fulfil ORD-20260401173639-H8IO7 for 10.00 USD
	// 200 ok
	// 200 webhook: duplicate delivery, already processed
	// 401 webhook: no matching signature
}

func ExampleSign() {
	// Headers for a test delivery, as kelviq would send them.
	body := []byte(`{"id":"evt_1","type":"order.created"}`)
	h := webhook.Sign(body, "msg_2Xk9yQ", time.Unix(1775064519, 0), "kq_whsec_test_5f2b8c1e9a7d4e3f")
	for _, name := range []string{webhook.HeaderID, webhook.HeaderTimestamp, webhook.HeaderSignature} {
		fmt.Printf("%s: %s\n", name, h.Get(name))
	}
	// Output:
	// webhook-id: msg_2Xk9yQ
	// webhook-timestamp: 1775064519
	// webhook-signature: v1,78e21bdeeb4550d64405030dc94c0c69c42620f567713eebc06abfaa8d430b78
}

func ExampleWithSecrets() {
	// While rotating the endpoint secret, accept both the new and the old one.
	const newSecret, oldSecret = "kq_whsec_new_example", "kq_whsec_old_example"
	body := []byte(exampleBody)
	now := webhook.WithNow(func() time.Time { return exampleNow })
	for _, signedWith := range []string{newSecret, oldSecret, "kq_whsec_unknown"} {
		header := webhook.Sign(body, "msg_1", exampleNow, signedWith)
		_, err := webhook.Verify(body, header, newSecret, webhook.WithSecrets(oldSecret), now)
		fmt.Println(err == nil)
	}
	// Output:
	// true
	// true
	// false
}

func ExampleEvent_Subscription() {
	body := []byte(`{"id":"evt_9","type":"subscription.cancelled","created_at":"2026-04-02T05:02:47Z",` +
		`"data":{"object":{"object":"subscription","id":"sub_1","status":"canceled","end_date":"2026-05-02"},` +
		`"previous_attributes":{"status":"active"}}}`)
	header := webhook.Sign(body, "msg_9", exampleNow, "kq_whsec_example")
	event, err := webhook.Verify(body, header, "kq_whsec_example", webhook.WithNow(func() time.Time { return exampleNow }))
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, err := event.Subscription()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.ID, sub.Status, "until", *sub.EndDate)
	fmt.Println("previously:", string(event.Data.PreviousAttributes))
	_, err = event.Order()
	fmt.Println(errors.Is(err, webhook.ErrWrongObject))
	// Output:
	// sub_1 canceled until 2026-05-02
	// previously: {"status":"active"}
	// true
}
