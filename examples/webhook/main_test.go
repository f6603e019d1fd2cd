package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"receiver listening on http://127.0.0.1:",
		"received order.created evt_01HXYZ1234567890ABCDEF (webhook-id msg_example_1): " +
			"order ORD-20260401173639-H8IO7 COMPLETE, 10.00 USD, customer geojacob@example.com",
		"answered 200 OK: ok",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), exampleSecret) {
		t.Error("output contains the secret")
	}
}

// TestEmbeddedDeliveryIsTheDocumentedOne: go:embed cannot reach the webhook package's
// testdata, so this program embeds a copy; it must stay identical.
func TestEmbeddedDeliveryIsTheDocumentedOne(t *testing.T) {
	want, err := os.ReadFile("../../webhook/testdata/events/order.created.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(orderCreated, want) {
		t.Error("order.created.json differs from webhook/testdata/events/order.created.json")
	}
}
