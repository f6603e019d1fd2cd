package webhook_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

// objectKinds maps each documented event type to the "object" of its data.object, as
// kelviq's guide documents it.
var objectKinds = map[webhook.EventType]string{
	webhook.EventCheckoutCompleted:       "checkout_session",
	webhook.EventCustomerCreated:         "customer",
	webhook.EventCustomerUpdated:         "customer",
	webhook.EventFeatureUsageAlert:       "feature_usage_alert",
	webhook.EventInvoiceCreated:          "invoice",
	webhook.EventInvoicePaid:             "invoice",
	webhook.EventInvoicePaymentFailed:    "invoice",
	webhook.EventOrderCreated:            "order",
	webhook.EventOrderUpdated:            "order",
	webhook.EventOrderRefunded:           "order",
	webhook.EventPaymentMethodCreated:    "payment_method",
	webhook.EventPaymentMethodUpdated:    "payment_method",
	webhook.EventPaymentMethodDeleted:    "payment_method",
	webhook.EventRefundCreated:           "refund",
	webhook.EventRefundUpdated:           "refund",
	webhook.EventSubscriptionCreated:     "subscription",
	webhook.EventSubscriptionUpdated:     "subscription",
	webhook.EventSubscriptionPlanChanged: "subscription",
	webhook.EventSubscriptionCancelled:   "subscription",
}

// payloadKind ties an object kind to its decoding method and an empty typed payload.
type payloadKind struct {
	decode func(*webhook.Event) (any, error)
	zero   func() any
}

func kind[T any](decode func(*webhook.Event) (*T, error)) payloadKind {
	return payloadKind{
		decode: func(e *webhook.Event) (any, error) { return decode(e) },
		zero:   func() any { return new(T) },
	}
}

var payloadKinds = map[string]payloadKind{
	"checkout_session":    kind((*webhook.Event).CheckoutSession),
	"customer":            kind((*webhook.Event).Customer),
	"feature_usage_alert": kind((*webhook.Event).UsageAlert),
	"invoice":             kind((*webhook.Event).Invoice),
	"order":               kind((*webhook.Event).Order),
	"payment_method":      kind((*webhook.Event).PaymentMethod),
	"refund":              kind((*webhook.Event).Refund),
	"subscription":        kind((*webhook.Event).Subscription),
}

func TestEventTypesMatchDocumentedDeliveries(t *testing.T) {
	var files []string
	for name := range loadEvents(t) {
		files = append(files, name)
	}
	sort.Strings(files)
	var consts []string
	for _, et := range webhook.EventTypes() {
		consts = append(consts, string(et))
		if !et.Known() {
			t.Errorf("%s.Known() = false", et)
		}
		if _, ok := objectKinds[et]; !ok {
			t.Errorf("%s has no object kind in this test's table", et)
		}
	}
	if !slices.IsSorted(consts) {
		t.Errorf("EventTypes() is not sorted: %v", consts)
	}
	if !slices.Equal(consts, files) {
		t.Errorf("EventTypes() = %v\nwant the documented deliveries %v", consts, files)
	}
	if len(objectKinds) != 19 {
		t.Errorf("object kind table has %d types, want 19", len(objectKinds))
	}
	for _, unknown := range []webhook.EventType{"", "order", "order.deleted", "ORDER.CREATED"} {
		if unknown.Known() {
			t.Errorf("%q.Known() = true", unknown)
		}
	}
}

// TestDocumentedDeliveries signs each of the 19 documented deliveries, verifies it, and
// decodes data.object into its typed payload. It fails when a documented field has
// nowhere to go (strict decoding) or does not come back unchanged when the payload is
// encoded again (key paths and values compared).
func TestDocumentedDeliveries(t *testing.T) {
	for name, body := range loadEvents(t) {
		t.Run(name, func(t *testing.T) {
			e, err := webhook.Verify(body, signedAt(body, "msg_"+name, 0, testSecret), testSecret, fixedClock())
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if string(e.Type) != name {
				t.Errorf("Type = %q, want %q", e.Type, name)
			}
			var envelope struct {
				ID        string `json:"id"`
				CreatedAt string `json:"created_at"`
				Data      struct {
					PreviousAttributes json.RawMessage `json:"previous_attributes"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &envelope); err != nil {
				t.Fatal(err)
			}
			if e.ID != envelope.ID || e.CreatedAt.Format(time.RFC3339) != envelope.CreatedAt {
				t.Errorf("envelope = (%q, %s), want (%q, %s)", e.ID, e.CreatedAt.Format(time.RFC3339), envelope.ID, envelope.CreatedAt)
			}
			if !bytes.Equal(e.Data.PreviousAttributes, envelope.Data.PreviousAttributes) {
				t.Errorf("PreviousAttributes = %s, want %s", e.Data.PreviousAttributes, envelope.Data.PreviousAttributes)
			}

			objKind := objectKinds[e.Type]
			pk, ok := payloadKinds[objKind]
			if !ok {
				t.Fatalf("no typed payload for object %q", objKind)
			}
			typed, err := pk.decode(e)
			if err != nil {
				t.Fatalf("decoding data.object: %v", err)
			}
			if got := objectField(t, typed); got != objKind {
				t.Errorf("typed payload Object = %q, want %q", got, objKind)
			}

			strict := pk.zero()
			assertStrictDecode(t, e.Data.Object, strict)
			for _, problem := range compareRoundTrip(t, e.Data.Object, typed) {
				t.Error(problem)
			}

			// Every other decoding method refuses this object.
			for other, opk := range payloadKinds {
				if other == objKind {
					continue
				}
				if _, err := opk.decode(e); !errors.Is(err, webhook.ErrWrongObject) {
					t.Errorf("decoding a %s as %s: err = %v, want ErrWrongObject", objKind, other, err)
				}
			}
		})
	}
}

// TestPlanChangedPreviousAttributes: subscription.plan_changed carries the whole former
// subscription in previous_attributes; it must map as fully as data.object.
func TestPlanChangedPreviousAttributes(t *testing.T) {
	body := loadEvent(t, "subscription.plan_changed")
	e, err := webhook.Verify(body, signedAt(body, "msg_pc", 0, testSecret), testSecret, fixedClock())
	if err != nil {
		t.Fatal(err)
	}
	var prev webhook.Subscription
	assertStrictDecode(t, e.Data.PreviousAttributes, &prev)
	for _, problem := range compareRoundTrip(t, e.Data.PreviousAttributes, &prev) {
		t.Error(problem)
	}
	if prev.Plan.Identifier != "enterprise" || prev.AmountUnits != 9900 {
		t.Errorf("previous plan = %q at %d units, want enterprise at 9900", prev.Plan.Identifier, prev.AmountUnits)
	}
}

// TestDocumentedValues spot-checks values whose Go types matter: exact decimal strings,
// integer minor units, nulls as nil, timestamps, the numeric payment method id.
func TestDocumentedValues(t *testing.T) {
	decode := func(name string) *webhook.Event {
		t.Helper()
		body := loadEvent(t, name)
		e, err := webhook.Verify(body, signedAt(body, "msg_"+name, 0, testSecret), testSecret, fixedClock())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return e
	}

	refund, err := decode("refund.created").Refund()
	if err != nil {
		t.Fatal(err)
	}
	if refund.Amount != "20.0" || refund.AmountUnits != 2000 || refund.Currency != "USD" {
		t.Errorf("refund amount = %q / %d %s, want \"20.0\" / 2000 USD", refund.Amount, refund.AmountUnits, refund.Currency)
	}

	inv, err := decode("invoice.created").Invoice()
	if err != nil {
		t.Fatal(err)
	}
	if inv.PaidAt != nil || inv.OrderID != nil || inv.DueDate != nil {
		t.Errorf("open invoice: PaidAt, OrderID, DueDate = %v, %v, %v, want nil", inv.PaidAt, inv.OrderID, inv.DueDate)
	}
	if inv.Customer.BillingAddress.Line1 != nil || inv.Customer.BillingAddress.Country == nil || *inv.Customer.BillingAddress.Country != "IN" {
		t.Errorf("billing address = %+v, want line1 nil and country IN", inv.Customer.BillingAddress)
	}
	paid, err := decode("invoice.paid").Invoice()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 4, 2, 6, 0, 0, 0, time.UTC); paid.PaidAt == nil || !paid.PaidAt.Equal(want) {
		t.Errorf("PaidAt = %v, want %v", paid.PaidAt, want)
	}

	pm, err := decode("payment_method.created").PaymentMethod()
	if err != nil {
		t.Fatal(err)
	}
	if pm.ID != 482 || pm.MethodData.Last4 != "4242" || pm.MethodData.ExpYear != 2029 || !pm.IsDefault {
		t.Errorf("payment method = %+v", pm)
	}

	sub, err := decode("subscription.created").Subscription()
	if err != nil {
		t.Fatal(err)
	}
	if sub.StartDate != "2026-03-11" || sub.EndDate != nil || sub.TrialEnd == nil {
		t.Errorf("subscription dates = %q, %v, %v", sub.StartDate, sub.EndDate, sub.TrialEnd)
	}
	cancelled, err := decode("subscription.cancelled").Subscription()
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.EndDate == nil || *cancelled.EndDate != "2026-05-02" || cancelled.Status != "canceled" {
		t.Errorf("cancelled subscription = %q, %v", cancelled.Status, cancelled.EndDate)
	}

	alert, err := decode("feature.usage_alert").UsageAlert()
	if err != nil {
		t.Fatal(err)
	}
	if alert.UsageLimit == nil || *alert.UsageLimit != 5 || alert.ThresholdValue != 90 || alert.PeriodEndTime != nil {
		t.Errorf("usage alert = %+v", alert)
	}

	cs, err := decode("checkout.completed").CheckoutSession()
	if err != nil {
		t.Fatal(err)
	}
	if cs.Metadata["order_ref"] != "ABC-123" || !cs.Data.DiscountsEnabled || cs.Data.SuccessURL != nil || string(cs.Features) != "null" {
		t.Errorf("checkout session = %+v", cs)
	}

	cust, err := decode("customer.updated").Customer()
	if err != nil {
		t.Fatal(err)
	}
	if cust.Name != "Geo Jacob v2" || cust.Metadata == nil || len(cust.Metadata) != 0 {
		t.Errorf("customer = %+v", cust)
	}
}

// TestUnknownPassesThrough: an event type and fields this package does not know are
// verified and kept, never rejected.
func TestUnknownPassesThrough(t *testing.T) {
	body := []byte(`{"id":"evt_new","type":"widget.exploded","created_at":"2026-04-01T17:28:39Z",` +
		`"api_version":"2027-01-01","data":{"object":{"object":"widget","shards":3},"previous_attributes":{"shards":0}}}`)
	e, err := webhook.Verify(body, signedAt(body, "msg_new", 0, testSecret), testSecret, fixedClock())
	if err != nil {
		t.Fatalf("Verify(unknown type) = %v", err)
	}
	if e.Type != "widget.exploded" || e.Type.Known() {
		t.Errorf("Type = %q (known %v), want unknown widget.exploded", e.Type, e.Type.Known())
	}
	if string(e.Data.Object) != `{"object":"widget","shards":3}` || string(e.Data.PreviousAttributes) != `{"shards":0}` {
		t.Errorf("Data = %s / %s", e.Data.Object, e.Data.PreviousAttributes)
	}
	if !bytes.Contains(e.Raw, []byte(`"api_version":"2027-01-01"`)) {
		t.Errorf("Raw lost an unknown member: %s", e.Raw)
	}
	if _, err := e.Order(); !errors.Is(err, webhook.ErrWrongObject) {
		t.Errorf("Order() on a widget = %v, want ErrWrongObject", err)
	}

	// A known object with members added later decodes; the new members stay in Raw.
	body = []byte(`{"id":"evt_x","type":"order.created","created_at":"2026-04-01T17:28:39Z",` +
		`"data":{"object":{"object":"order","id":"ORD-1","amount_total":"1.50","loyalty_points":7}}}`)
	e, err = webhook.Verify(body, signedAt(body, "msg_x", 0, testSecret), testSecret, fixedClock())
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.Order()
	if err != nil || o.ID != "ORD-1" || o.AmountTotal != "1.50" {
		t.Errorf("Order() = %+v, %v", o, err)
	}

	// No data.object at all: the event verifies, decoding says why it cannot.
	body = []byte(`{"id":"evt_y","type":"order.created","created_at":"2026-04-01T17:28:39Z"}`)
	e, err = webhook.Verify(body, signedAt(body, "msg_y", 0, testSecret), testSecret, fixedClock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Order(); !errors.Is(err, webhook.ErrInvalidPayload) {
		t.Errorf("Order() without data.object = %v, want ErrInvalidPayload", err)
	}
}

// TestRoundTripCheckerCatchesGaps proves compareRoundTrip can fail: a struct missing a
// field, and a field of an imprecise type, are both reported.
func TestRoundTripCheckerCatchesGaps(t *testing.T) {
	raw := json.RawMessage(`{"id":"r1","amount":"20.0","customer":{"id":"c","billing_address":{"line1":null}},"tags":[],"meta":{}}`)

	var missing struct {
		ID     string `json:"id"`
		Amount string `json:"amount"`
	}
	if err := json.Unmarshal(raw, &missing); err != nil {
		t.Fatal(err)
	}
	problems := compareRoundTrip(t, raw, &missing)
	for _, path := range []string{"customer.id", "customer.billing_address.line1", "tags", "meta"} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, path+":") }) {
			t.Errorf("missing %s not reported; problems: %q", path, problems)
		}
	}

	var imprecise struct {
		ID       string      `json:"id"`
		Amount   json.Number `json:"amount"` // "20.0" would come back as 20.0
		Customer struct {
			ID             string `json:"id"`
			BillingAddress struct {
				Line1 string `json:"line1"` // null would come back as ""
			} `json:"billing_address"`
		} `json:"customer"`
		Tags []string       `json:"tags"`
		Meta map[string]any `json:"meta"`
	}
	if err := json.Unmarshal(raw, &imprecise); err != nil {
		t.Fatal(err)
	}
	problems = compareRoundTrip(t, raw, &imprecise)
	for _, path := range []string{"amount", "customer.billing_address.line1"} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, path+":") }) {
			t.Errorf("changed %s not reported; problems: %q", path, problems)
		}
	}

	var strictTarget struct {
		ID string `json:"id"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&strictTarget); err == nil {
		t.Error("strict decoding into a struct missing fields succeeded")
	}
}

// assertStrictDecode decodes raw into v refusing unknown members: a documented field
// that the typed payload lacks fails the test.
func assertStrictDecode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("strict decoding into %T: %v", v, err)
	}
}

// compareRoundTrip encodes typed again and reports every key path of raw that is missing
// from the result or whose value changed. An empty object in raw only needs its path to
// exist. Numbers are compared as written (json.Number), so "20.0" ≠ "20" and 90 ≠ "90".
func compareRoundTrip(t *testing.T, raw json.RawMessage, typed any) []string {
	t.Helper()
	again, err := json.Marshal(typed)
	if err != nil {
		t.Fatalf("encoding %T: %v", typed, err)
	}
	want, got := flatten(t, raw), flatten(t, again)
	var problems []string
	for path, w := range want {
		g, ok := got[path]
		switch {
		case ok && g == w:
		case ok:
			problems = append(problems, fmt.Sprintf("%s: documented %s, round trip gives %s", path, w, g))
		case w == "{}" && hasChild(got, path):
		default:
			problems = append(problems, fmt.Sprintf("%s: documented %s, missing after the round trip", path, w))
		}
	}
	sort.Strings(problems)
	return problems
}

func hasChild(paths map[string]string, parent string) bool {
	for p := range paths {
		if strings.HasPrefix(p, parent+".") {
			return true
		}
	}
	return false
}

// flatten maps each leaf of a JSON document to its value as JSON text. Object members
// add ".name", array elements "[i]"; empty objects and arrays are leaves "{}" and "[]".
func flatten(t *testing.T, doc []byte) map[string]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("flatten: %v", err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				out[path] = "{}"
			}
			for k, child := range v {
				walk(strings.TrimPrefix(path+"."+k, "."), child)
			}
		case []any:
			if len(v) == 0 {
				out[path] = "[]"
			}
			for i, child := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		default:
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("flatten %s: %v", path, err)
			}
			out[path] = string(b)
		}
	}
	walk("", v)
	return out
}

// objectField returns the Object member of a typed payload.
func objectField(t *testing.T, typed any) string {
	t.Helper()
	b, err := json.Marshal(typed)
	if err != nil {
		t.Fatal(err)
	}
	var probe struct {
		Object string `json:"object"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		t.Fatal(err)
	}
	return probe.Object
}
