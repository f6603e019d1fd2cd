// Command webhook shows a kelviq webhook receiver end to end, offline: it starts
// webhook.NewHandler on a loopback test server, sends it one delivery signed the way
// kelviq signs them (the order.created example of kelviq's webhooks guide, embedded),
// prints what the handler received and the answer, and exits 0.
//
//	go run ./examples/webhook
//
// In a real receiver the secret comes from kelviq's dashboard (kq_whsec_…), the handler is
// mounted on your server (http.Handle("POST /webhooks/kelviq", h)) and kelviq sends the
// deliveries; webhook.Sign is only for tests and demonstrations like this one.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

// orderCreated is kelviq's documented order.created delivery, a copy of
// webhook/testdata/events/order.created.json (main_test.go checks they are equal).
//
//go:embed order.created.json
var orderCreated []byte

// exampleSecret is a made-up endpoint secret. Never hard-code a real one.
const exampleSecret = "kq_whsec_example_not_a_real_secret"

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhook example:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	received := make(chan string, 1)
	h := webhook.NewHandler(exampleSecret, func(_ context.Context, e *webhook.Event) error {
		switch e.Type {
		case webhook.EventOrderCreated, webhook.EventOrderUpdated:
			o, err := e.Order()
			if err != nil {
				return err // answered 500: kelviq retries later
			}
			received <- fmt.Sprintf("%s %s (webhook-id %s): order %s %s, %s %s, customer %s",
				e.Type, e.ID, e.WebhookID, o.ID, o.Status, o.AmountTotal, o.Currency, o.Customer.Email)
		default:
			received <- fmt.Sprintf("%s %s: not handled here, acknowledged", e.Type, e.ID)
		}
		return nil
	})

	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/kelviq", h)
	srv := httptest.NewServer(mux) // loopback only
	defer srv.Close()
	url := srv.URL + "/webhooks/kelviq"
	fmt.Fprintln(out, "receiver listening on", url)

	// What kelviq does: sign the body with the endpoint secret and POST it.
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(orderCreated))
	if err != nil {
		return err
	}
	for k, v := range webhook.Sign(orderCreated, "msg_example_1", time.Now(), exampleSecret) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}

	select {
	case got := <-received:
		fmt.Fprintln(out, "received", got)
	default:
		return fmt.Errorf("the handler did not receive the event (answer %s: %s)",
			resp.Status, strings.TrimSpace(string(answer)))
	}
	fmt.Fprintf(out, "answered %s: %s\n", resp.Status, strings.TrimSpace(string(answer)))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unexpected status %s", resp.Status)
	}
	return nil
}
