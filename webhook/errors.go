package webhook

import "errors"

// Errors returned by [Verify], each wrapped with detail; test for them with [errors.Is].
// No error of this package ever contains a secret or a header value as received.
var (
	// ErrNoSecret means no non-empty secret was given. An empty key would let anyone
	// compute valid signatures, so it is refused rather than used.
	ErrNoSecret = errors.New("webhook: no secret configured")

	// ErrMissingHeader means the webhook-id, webhook-timestamp or webhook-signature
	// header is absent or empty. The error names which one.
	ErrMissingHeader = errors.New("webhook: missing header")

	// ErrMalformedHeader means a webhook header is present but unusable: webhook-id or
	// webhook-timestamp given more than once with different values, or a
	// webhook-signature carrying no well-formed "v1,<64 hex digits>" signature.
	ErrMalformedHeader = errors.New("webhook: malformed header")

	// ErrInvalidTimestamp means webhook-timestamp is not a Unix time in decimal seconds.
	ErrInvalidTimestamp = errors.New("webhook: invalid timestamp")

	// ErrTimestampTooOld means webhook-timestamp lies further in the past than the
	// tolerance: a late or replayed delivery.
	ErrTimestampTooOld = errors.New("webhook: timestamp too old")

	// ErrTimestampTooNew means webhook-timestamp lies further in the future than the
	// tolerance: a forged timestamp or a badly wrong clock on one side.
	ErrTimestampTooNew = errors.New("webhook: timestamp too new")

	// ErrNoMatchingSignature means no v1 signature in webhook-signature matches the
	// delivery under any of the secrets: a forged or altered delivery, or a wrong secret.
	ErrNoMatchingSignature = errors.New("webhook: no matching signature")

	// ErrInvalidPayload means the signature matched but the body is not a JSON event
	// object. The decoding methods of [Event] also return it when data.object is
	// missing or does not decode into the typed payload.
	ErrInvalidPayload = errors.New("webhook: invalid payload")

	// ErrWrongObject is returned by a decoding method of [Event] called on an event
	// whose data.object is of another kind (its "object" field names it), for example
	// [Event.Order] on a subscription event.
	ErrWrongObject = errors.New("webhook: data.object is of another kind")
)
