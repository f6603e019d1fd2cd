package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/webhook"
)

// FuzzVerify feeds Verify arbitrary bodies and header values. Besides not panicking it
// checks that:
//   - every failure wraps exactly one sentinel error and holds no secret;
//   - a success is justified: one of the v1 signatures really is the HMAC of the
//     delivery, recomputed here independently;
//   - the same body and id, properly signed, always pass the signature check.
//
// The committed corpus is testdata/fuzz/FuzzVerify; run with
// go test -run '^$' -fuzz FuzzVerify -fuzztime 60s ./webhook/
func FuzzVerify(f *testing.F) {
	order := []byte(`{"id":"evt_1","type":"order.created","created_at":"2026-04-01T17:28:39Z","data":{"object":{"object":"order"}}}`)
	good := signedAt(order, validID, 0, testSecret)
	sig := good.Get(webhook.HeaderSignature)
	f.Add(order, validID, "1775064519", sig)
	f.Add(order, validID, "1775064519", "v1,"+strings.Repeat("0", 64)+" "+sig)
	f.Add(order, validID, "1775064519", "v2,abc v1,zz")
	f.Add(order, validID+".1775064519", "1775064519", sig)
	f.Add(order, validID, "99999999999999999999", sig)
	f.Add([]byte{}, "", "", "")
	f.Add([]byte("null"), "a", "1775064519", "v1,")
	f.Add([]byte(`{"created_at":"x"}`), "msg_é\x00", "+1", "v1,"+strings.ToUpper(sig[3:]))

	f.Fuzz(func(t *testing.T, payload []byte, id, ts, sigHeader string) {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sigHeader)

		e, err := webhook.Verify(payload, h, testSecret, fixedClock(), webhook.WithSecrets(oldSecret))
		if err != nil {
			if e != nil {
				t.Fatal("event returned with an error")
			}
			n := 0
			for _, s := range allSentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %q wraps %d sentinels, want 1", err, n)
			}
			if containsSecret(err.Error()) {
				t.Fatal("error contains a secret")
			}
		} else {
			if !independentlyValid(payload, id, ts, sigHeader) {
				t.Fatalf("Verify accepted a delivery no signature of which is valid: id %q ts %q sig %q", id, ts, sigHeader)
			}
			if e.WebhookID != strings.TrimSpace(id) {
				t.Fatalf("WebhookID = %q, header %q", e.WebhookID, id)
			}
		}

		// Properly signed at the test clock, the delivery must pass the signature check
		// whenever the id survives header handling unchanged.
		if id == "" || strings.TrimSpace(id) != id {
			return
		}
		_, err = webhook.Verify(payload, signedAt(payload, id, 0, testSecret), testSecret, fixedClock())
		if err != nil && !errors.Is(err, webhook.ErrInvalidPayload) {
			t.Fatalf("properly signed delivery refused: %v", err)
		}
	})
}

// independentlyValid recomputes the v1 signatures with crypto/hmac, apart from the code
// under test, for both secrets the fuzz target accepts.
func independentlyValid(payload []byte, id, ts, sigHeader string) bool {
	id, ts = strings.TrimSpace(id), strings.TrimSpace(ts)
	for _, secret := range []string{testSecret, oldSecret} {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(id + "." + ts + "."))
		m.Write(payload)
		want := hex.EncodeToString(m.Sum(nil))
		for _, entry := range strings.Fields(sigHeader) {
			if v, s, ok := strings.Cut(entry, ","); ok && v == "v1" && strings.EqualFold(s, want) {
				return true
			}
		}
	}
	return false
}
