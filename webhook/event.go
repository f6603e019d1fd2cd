package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one verified kelviq webhook event: the envelope, with the object kept raw.
//
// Unknown event types and unknown fields are never rejected: Type is whatever kelviq
// sent, Data keeps data.object and data.previous_attributes as raw JSON, and Raw holds
// the whole body. Decode data.object into its typed payload with the method named after
// the object ([Event.Order], [Event.Subscription] …) or with [encoding/json] directly.
type Event struct {
	// ID is the event's id. Retries of a delivery carry the same ID; it is the natural
	// key for idempotent processing in your own store.
	ID string `json:"id"`
	// Type says what happened, for example [EventOrderCreated].
	Type EventType `json:"type"`
	// CreatedAt is when the event happened.
	CreatedAt time.Time `json:"created_at"`
	// Data holds the object the event is about.
	Data EventData `json:"data"`

	// WebhookID is the delivery's webhook-id header. It is not part of the body.
	WebhookID string `json:"-"`
	// Timestamp is the delivery's webhook-timestamp header: when it was signed. It is
	// not part of the body.
	Timestamp time.Time `json:"-"`
	// Raw is the verified body, byte for byte, for fields this package does not map.
	Raw json.RawMessage `json:"-"`
}

// EventData is the "data" member of an [Event].
type EventData struct {
	// Object is data.object, the object the event is about, as raw JSON. Its "object"
	// member names its kind ("order", "subscription" …).
	Object json.RawMessage `json:"object"`
	// PreviousAttributes is data.previous_attributes as raw JSON, or nil when absent.
	// On update events it holds the former values of the fields that changed (a null
	// value means the field was null); on [EventSubscriptionPlanChanged] the whole
	// previous subscription. It has the same field names as Object, so it can be decoded
	// into the same typed payload or into a map[string]json.RawMessage to learn which
	// fields changed.
	PreviousAttributes json.RawMessage `json:"previous_attributes,omitempty"`
}

// parseEvent decodes a verified body.
func parseEvent(payload []byte, d delivery) (*Event, error) {
	if trimmed := bytes.TrimLeft(payload, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrInvalidPayload)
	}
	e := &Event{}
	if err := json.Unmarshal(payload, e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	e.WebhookID = d.id
	e.Timestamp = d.timestamp
	e.Raw = bytes.Clone(payload)
	return e, nil
}

// The "object" member of each documented data.object.
const (
	objectCheckoutSession = "checkout_session"
	objectCustomer        = "customer"
	objectInvoice         = "invoice"
	objectOrder           = "order"
	objectPaymentMethod   = "payment_method"
	objectRefund          = "refund"
	objectSubscription    = "subscription"
	objectUsageAlert      = "feature_usage_alert"
)

// CheckoutSession decodes data.object of a [EventCheckoutCompleted] event.
// It fails with [ErrWrongObject] when data.object is not a checkout session.
func (e *Event) CheckoutSession() (*CheckoutSession, error) {
	return decodeObject[CheckoutSession](e, objectCheckoutSession)
}

// Customer decodes data.object of a customer.* event.
// It fails with [ErrWrongObject] when data.object is not a customer.
func (e *Event) Customer() (*Customer, error) {
	return decodeObject[Customer](e, objectCustomer)
}

// Invoice decodes data.object of an invoice.* event.
// It fails with [ErrWrongObject] when data.object is not an invoice.
func (e *Event) Invoice() (*Invoice, error) {
	return decodeObject[Invoice](e, objectInvoice)
}

// Order decodes data.object of an order.* event.
// It fails with [ErrWrongObject] when data.object is not an order.
func (e *Event) Order() (*Order, error) {
	return decodeObject[Order](e, objectOrder)
}

// PaymentMethod decodes data.object of a payment_method.* event.
// It fails with [ErrWrongObject] when data.object is not a payment method.
func (e *Event) PaymentMethod() (*PaymentMethod, error) {
	return decodeObject[PaymentMethod](e, objectPaymentMethod)
}

// Refund decodes data.object of a refund.* event.
// It fails with [ErrWrongObject] when data.object is not a refund.
func (e *Event) Refund() (*Refund, error) {
	return decodeObject[Refund](e, objectRefund)
}

// Subscription decodes data.object of a subscription.* event.
// It fails with [ErrWrongObject] when data.object is not a subscription.
func (e *Event) Subscription() (*Subscription, error) {
	return decodeObject[Subscription](e, objectSubscription)
}

// UsageAlert decodes data.object of a [EventFeatureUsageAlert] event.
// It fails with [ErrWrongObject] when data.object is not a feature usage alert.
func (e *Event) UsageAlert() (*UsageAlert, error) {
	return decodeObject[UsageAlert](e, objectUsageAlert)
}

// decodeObject decodes data.object into a T after checking its "object" member names
// kind. An object without that member is decoded as T: kelviq documents it on every
// object, and its absence is no reason to refuse.
func decodeObject[T any](e *Event, kind string) (*T, error) {
	raw := bytes.TrimSpace(e.Data.Object)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("%w: event has no data.object", ErrInvalidPayload)
	}
	var probe struct {
		Object *string `json:"object"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("%w: data.object: %w", ErrInvalidPayload, err)
	}
	if probe.Object != nil && *probe.Object != kind {
		return nil, fmt.Errorf("%w: it is %q, not %q", ErrWrongObject, *probe.Object, kind)
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("%w: data.object as %s: %w", ErrInvalidPayload, kind, err)
	}
	return v, nil
}
