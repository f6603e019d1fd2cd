package webhook_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

// Known answers, computed once outside Go from the documented signing string
// "{id}.{timestamp}.{raw body}" with the secret used as-is as the HMAC key:
//
//	S='kq_whsec_test_5f2b8c1e9a7d4e3f'
//	printf '%s' 'msg_2Xk9yQ.1775064519.{"id":"evt_1","type":"order.created"}' \
//	  | openssl dgst -sha256 -hmac "$S"
//	printf '%s' 'msg_2Xk9yQ.1775064519.' | cat - testdata/events/order.created.json \
//	  | openssl dgst -sha256 -hmac "$S"
//	printf '%s' 'msg_empty.1775064519.' | openssl dgst -sha256 -hmac "$S"
//
// and cross-checked with python3:
//
//	hmac.new(S.encode(), b'msg_2Xk9yQ.1775064519.' + body, hashlib.sha256).hexdigest()
//
// The Standard Webhooks variant (key = base64-decoded secret after the prefix) was
// computed with python3 for knownStandardWebhooksHex, which kelviq deliveries must NOT
// match:
//
//	S2 = 'kq_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
//	msg = b'msg_b64.1775064519.{"ok":true}'
//	hmac.new(S2.encode(), msg, hashlib.sha256).hexdigest()              # as-is
//	hmac.new(base64.b64decode(S2[9:]), msg, hashlib.sha256).hexdigest() # decoded
var knownAnswers = []struct {
	name    string
	id      string
	ts      int64
	payload func(t *testing.T) []byte
	secret  string
	sig     string
}{
	{
		name:    "short body",
		id:      "msg_2Xk9yQ",
		ts:      1775064519,
		payload: func(*testing.T) []byte { return []byte(`{"id":"evt_1","type":"order.created"}`) },
		secret:  testSecret,
		sig:     "v1,78e21bdeeb4550d64405030dc94c0c69c42620f567713eebc06abfaa8d430b78",
	},
	{
		name:    "documented order.created",
		id:      "msg_2Xk9yQ",
		ts:      1775064519,
		payload: func(t *testing.T) []byte { return loadEvent(t, "order.created") },
		secret:  testSecret,
		sig:     "v1,6c3475c59fb970585c6045e9c462c4052406deeed64b36a95dc877c9265b0215",
	},
	{
		name:    "empty body",
		id:      "msg_empty",
		ts:      1775064519,
		payload: func(*testing.T) []byte { return nil },
		secret:  testSecret,
		sig:     "v1,5483c9683220d41b319716e6d85e887769db881247e72897b647c120f536df7a",
	},
	{
		name:    "base64-looking secret used as-is",
		id:      "msg_b64",
		ts:      1775064519,
		payload: func(*testing.T) []byte { return []byte(`{"ok":true}`) },
		secret:  "kq_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		sig:     "v1,5b9f8623eadd26b8af07940761b98647dbf24d50445b4a2dbb49f9d799c063c4",
	},
}

// knownStandardWebhooksHex is the HMAC of the last known answer's message keyed with the
// base64-decoded secret, the Standard Webhooks way.
const knownStandardWebhooksHex = "7e5f85f49842f13a0beb479d107e66364b5afc953dd52026e41997caa1ffcf25"

func TestSignKnownAnswers(t *testing.T) {
	for _, ka := range knownAnswers {
		t.Run(ka.name, func(t *testing.T) {
			h := webhook.Sign(ka.payload(t), ka.id, time.Unix(ka.ts, 0), ka.secret)
			if got := h.Get(webhook.HeaderSignature); got != ka.sig {
				t.Errorf("signature = %q, want %q", got, ka.sig)
			}
			if got := h.Get(webhook.HeaderID); got != ka.id {
				t.Errorf("webhook-id = %q, want %q", got, ka.id)
			}
			if got, want := h.Get(webhook.HeaderTimestamp), "1775064519"; got != want {
				t.Errorf("webhook-timestamp = %q, want %q", got, want)
			}
		})
	}
}

func TestVerifyKnownAnswers(t *testing.T) {
	for _, ka := range knownAnswers {
		t.Run(ka.name, func(t *testing.T) {
			// Headers written out by hand, in the lower case kelviq sends.
			h := http.Header{
				"webhook-id":        {ka.id},
				"webhook-timestamp": {"1775064519"},
				"webhook-signature": {ka.sig},
			}
			payload := ka.payload(t)
			e, err := webhook.Verify(payload, h, ka.secret, fixedClock())
			if len(payload) == 0 {
				// The signature matches, then the empty body is no event: parsing
				// happens only after the signature matched.
				if !errors.Is(err, webhook.ErrInvalidPayload) {
					t.Fatalf("Verify(known answer, empty body) = %v, want ErrInvalidPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify(known answer) = %v, want nil", err)
			}
			if e.WebhookID != ka.id || e.Timestamp.Unix() != ka.ts {
				t.Errorf("event delivery = (%q, %d), want (%q, %d)", e.WebhookID, e.Timestamp.Unix(), ka.id, ka.ts)
			}
			if string(e.Raw) != string(payload) {
				t.Errorf("event Raw differs from the body")
			}
		})
	}
}

func TestVerifyRejectsStandardWebhooksKey(t *testing.T) {
	ka := knownAnswers[len(knownAnswers)-1]
	h := http.Header{
		"webhook-id":        {ka.id},
		"webhook-timestamp": {"1775064519"},
		"webhook-signature": {"v1," + knownStandardWebhooksHex},
	}
	_, err := webhook.Verify(ka.payload(t), h, ka.secret, fixedClock())
	if !errors.Is(err, webhook.ErrNoMatchingSignature) {
		t.Fatalf("Verify(signature keyed with the base64-decoded secret) = %v, want ErrNoMatchingSignature", err)
	}
}
