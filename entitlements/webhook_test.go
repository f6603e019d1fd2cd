package entitlements_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/webhook"
)

const webhookSecret = "kq_whsec_entitlements_test"

// deliver posts a signed delivery of event to h and returns the status.
func deliver(t *testing.T, h http.Handler, id, event string) int {
	t.Helper()
	payload := []byte(event)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/kelviq", bytes.NewReader(payload))
	for k, v := range webhook.Sign(payload, id, time.Now(), webhookSecret) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func event(id, typ, object string) string {
	return fmt.Sprintf(`{"id":%q,"type":%q,"created_at":"2026-05-01T12:00:00Z","data":{"object":%s}}`, id, typ, object)
}

// Subscription and order deliveries invalidate the customer they name; other
// events and events naming no customer invalidate nothing; the wrapped
// callback sees every delivery.
func TestWebhookHandlerFuncInvalidates(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust_a", `[`+boolOn+`]`)
	f.set("cust_b", `[`+boolOn+`]`)
	logs := &logBuffer{}
	c, _ := newChecker(t, f, entitlements.WithLogger(logs.logger()))
	var seen atomic.Int64
	h := webhook.NewHandler(webhookSecret, c.WebhookHandlerFunc(func(ctx context.Context, e *webhook.Event) error {
		seen.Add(1)
		return nil
	}))

	tests := []struct {
		name, typ, object string
		invalidates       string // the customer whose next check calls kelviq, or ""
	}{
		{"subscription updated", "subscription.updated", `{"object":"subscription","id":"sub_1","customer":{"id":"k_1","customer_id":"cust_a"}}`, "cust_a"},
		{"subscription cancelled", "subscription.cancelled", `{"object":"subscription","customer":{"customer_id":"cust_b"}}`, "cust_b"},
		{"plan changed", "subscription.plan_changed", `{"object":"subscription","customer":{"customer_id":"cust_a"}}`, "cust_a"},
		{"order refunded", "order.refunded", `{"object":"order","customer_id":"k_2","customer":{"id":"k_2","customer_id":"cust_b"}}`, "cust_b"},
		{"order created", "order.created", `{"object":"order","customer":{"customer_id":"cust_a"}}`, "cust_a"},
		{"customer event", "customer.updated", `{"object":"customer","customer_id":"cust_a"}`, ""},
		{"subscription naming no customer", "subscription.created", `{"object":"subscription","customer":{}}`, ""},
		{"subscription with the wrong object", "subscription.updated", `{"object":"order","customer":{"customer_id":"cust_a"}}`, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustHave(t, c, "cust_a", "sso", true) // both cached
			mustHave(t, c, "cust_b", "sso", true)
			before := f.calls.Load()
			if code := deliver(t, h, fmt.Sprintf("msg_%d", i), event(fmt.Sprintf("evt_%d", i), tt.typ, tt.object)); code != http.StatusOK {
				t.Fatalf("delivery answered %d", code)
			}
			mustHave(t, c, "cust_a", "sso", true)
			mustHave(t, c, "cust_b", "sso", true)
			want := int64(0)
			if tt.invalidates != "" {
				want = 1
			}
			if got := f.calls.Load() - before; got != want {
				t.Fatalf("%d calls after the delivery, want %d", got, want)
			}
		})
	}
	if got := seen.Load(); got != int64(len(tests)) {
		t.Errorf("the wrapped callback saw %d deliveries, want %d", got, len(tests))
	}
	if got := logs.count("names no customer"); got != 2 {
		t.Errorf("%d warnings about events naming no customer, want 2:\n%s", got, logs)
	}
}

// A nil callback is allowed: the deliveries are acknowledged.
func TestWebhookHandlerFuncNilNext(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust_a", `[`+boolOn+`]`)
	c, _ := newChecker(t, f)
	mustHave(t, c, "cust_a", "sso", true)
	h := webhook.NewHandler(webhookSecret, c.WebhookHandlerFunc(nil))
	if code := deliver(t, h, "msg_1", event("evt_1", "order.updated", `{"object":"order","customer":{"customer_id":"cust_a"}}`)); code != http.StatusOK {
		t.Fatalf("delivery answered %d", code)
	}
	mustHave(t, c, "cust_a", "sso", true)
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2", got)
	}
	if got := c.InvalidateEvent(context.Background(), nil); got != "" {
		t.Errorf("InvalidateEvent(nil) = %q", got)
	}
}
