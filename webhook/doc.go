// Package webhook verifies and decodes the webhook deliveries kelviq sends to an
// integration (checkouts, subscriptions, invoices, orders, refunds, customers, payment
// methods and usage alerts), and serves them through an [http.Handler].
//
// kelviq's webhooks are documented at https://docs.kelviq.com (guide "Webhooks").
//
// # The signature scheme
//
// Every delivery is a POST whose body is a JSON event and which carries three headers:
//
//	webhook-id:        a unique id of the delivery (retries of one event keep it)
//	webhook-timestamp: when it was signed, in Unix seconds
//	webhook-signature: v1,<hex HMAC-SHA256>
//
// The signature is the lowercase hex HMAC-SHA256 of the signing string
//
//	{webhook-id}.{webhook-timestamp}.{raw body}
//
// keyed with the endpoint's secret (it starts with "kq_whsec_") used as-is: the secret's
// bytes are the key. Unlike the Standard Webhooks scheme, it is not base64-decoded and the
// signature is hex, not base64. The header may carry several space-separated signatures
// (for example while kelviq rotates a secret); a delivery is genuine when any of them
// matches.
//
// A receiver must verify the body exactly as received, before parsing it: re-encoding the
// JSON changes the bytes and breaks the signature. [Verify] does this and rejects a
// timestamp further than the tolerance (5 minutes by default) from now in either
// direction, which limits replays. Because kelviq retries deliveries, the same event can
// arrive more than once; [NewHandler] drops a repeated webhook-id it has already
// processed.
//
// # Events
//
// An [Event] carries the envelope (id, type, created_at) and keeps data.object and
// data.previous_attributes as raw JSON, so event types and fields this package does not
// know pass through untouched. Typed payloads exist for the documented objects, with one
// decoding method per object on [Event]: [Event.CheckoutSession], [Event.Customer],
// [Event.Invoice], [Event.Order], [Event.PaymentMethod], [Event.Refund],
// [Event.Subscription] and [Event.UsageAlert]. Payloads are snake_case, so the camelCase
// types of the generated API client do not fit them.
//
// Amounts come as decimal strings ("10.00") and are kept as strings, exactly as sent,
// next to their integer minor units (AmountUnits: cents). Timestamps are [time.Time];
// calendar dates ("2026-04-02") are strings. A field that kelviq's examples show as null,
// or that is absent by nature (trial dates), is a pointer; a null in any other field
// decodes as the zero value without error.
//
// # Testing
//
// [Sign] produces the headers kelviq would send for a payload, so an integration can test
// its handler end to end without kelviq.
package webhook
