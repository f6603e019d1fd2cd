package webhook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

// validBody is a minimal event used where the content does not matter.
var validBody = []byte(`{"id":"evt_1","type":"order.created","created_at":"2026-04-01T17:28:39Z","data":{"object":{"object":"order","id":"ORD-1"}}}`)

const validID = "msg_2Xk9yQ"

type verifyCase struct {
	name    string
	payload []byte
	header  http.Header
	// noSecret passes "" as Verify's secret instead of testSecret.
	noSecret bool
	opts     []webhook.Option
	want     error
}

// with returns a copy of h with name set to values (none: deleted).
func with(h http.Header, name string, values ...string) http.Header {
	c := h.Clone()
	c.Del(name)
	for _, v := range values {
		c.Add(name, v)
	}
	return c
}

func flipByte(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}

// rejections are deliveries Verify must refuse, with the error it must say.
func rejections(t testing.TB) []verifyCase {
	good := signedAt(validBody, validID, 0, testSecret)
	goodSig := good.Get(webhook.HeaderSignature)
	order := loadEvent(t, "order.created")
	orderHeader := signedAt(order, validID, 0, testSecret)
	return []verifyCase{
		{name: "body altered by one byte", payload: flipByte(order, len(order)/2), header: orderHeader, want: webhook.ErrNoMatchingSignature},
		{name: "body altered in its last byte", payload: flipByte(order, len(order)-1), header: orderHeader, want: webhook.ErrNoMatchingSignature},
		{name: "body truncated", payload: order[:len(order)-1], header: orderHeader, want: webhook.ErrNoMatchingSignature},
		{name: "body extended", payload: append(append([]byte(nil), order...), ' '), header: orderHeader, want: webhook.ErrNoMatchingSignature},
		{name: "id altered", payload: validBody, header: with(good, webhook.HeaderID, validID+"x"), want: webhook.ErrNoMatchingSignature},
		{name: "timestamp altered by one second", payload: validBody, header: with(good, webhook.HeaderTimestamp, "1775064520"), want: webhook.ErrNoMatchingSignature},
		{name: "timestamp with a leading zero", payload: validBody, header: with(good, webhook.HeaderTimestamp, "01775064519"), want: webhook.ErrNoMatchingSignature},
		{name: "signed with another secret", payload: validBody, header: signedAt(validBody, validID, 0, otherSecret), want: webhook.ErrNoMatchingSignature},
		{name: "signed with the secret without its prefix", payload: validBody, header: signedAt(validBody, validID, 0, strings.TrimPrefix(testSecret, "kq_whsec_")), want: webhook.ErrNoMatchingSignature},
		{name: "signature of another body", payload: validBody, header: with(good, webhook.HeaderSignature, orderHeader.Get(webhook.HeaderSignature)), want: webhook.ErrNoMatchingSignature},
		{name: "rotated secret not configured", payload: validBody, header: signedAt(validBody, validID, 0, oldSecret), want: webhook.ErrNoMatchingSignature},
		{name: "two signatures, none matching", payload: validBody, header: with(good, webhook.HeaderSignature, "v1,"+strings.Repeat("ab", 32)+" v1,"+strings.Repeat("cd", 32)), want: webhook.ErrNoMatchingSignature},

		{name: "expired by one second", payload: validBody, header: signedAt(validBody, validID, -webhook.DefaultTolerance-time.Second, testSecret), want: webhook.ErrTimestampTooOld},
		{name: "expired by a day", payload: validBody, header: signedAt(validBody, validID, -24*time.Hour, testSecret), want: webhook.ErrTimestampTooOld},
		{name: "timestamp zero", payload: validBody, header: with(good, webhook.HeaderTimestamp, "0"), want: webhook.ErrTimestampTooOld},
		{name: "future by one second", payload: validBody, header: signedAt(validBody, validID, webhook.DefaultTolerance+time.Second, testSecret), want: webhook.ErrTimestampTooNew},
		{name: "future by a year", payload: validBody, header: signedAt(validBody, validID, 365*24*time.Hour, testSecret), want: webhook.ErrTimestampTooNew},
		{name: "timestamp after the year 9999", payload: validBody, header: with(good, webhook.HeaderTimestamp, "253402300800"), want: webhook.ErrTimestampTooNew},
		{name: "timestamp at the end of int64", payload: validBody, header: with(good, webhook.HeaderTimestamp, "9223372036854775807"), want: webhook.ErrTimestampTooNew},
		{name: "expired under a shorter tolerance", payload: validBody, header: signedAt(validBody, validID, -61*time.Second, testSecret), opts: []webhook.Option{webhook.WithTolerance(time.Minute)}, want: webhook.ErrTimestampTooOld},
		{name: "future under a shorter tolerance", payload: validBody, header: signedAt(validBody, validID, 61*time.Second, testSecret), opts: []webhook.Option{webhook.WithTolerance(time.Minute)}, want: webhook.ErrTimestampTooNew},

		{name: "no headers", payload: validBody, header: http.Header{}, want: webhook.ErrMissingHeader},
		{name: "nil header", payload: validBody, header: nil, want: webhook.ErrMissingHeader},
		{name: "missing webhook-id", payload: validBody, header: with(good, webhook.HeaderID), want: webhook.ErrMissingHeader},
		{name: "missing webhook-timestamp", payload: validBody, header: with(good, webhook.HeaderTimestamp), want: webhook.ErrMissingHeader},
		{name: "missing webhook-signature", payload: validBody, header: with(good, webhook.HeaderSignature), want: webhook.ErrMissingHeader},
		{name: "empty webhook-id", payload: validBody, header: with(good, webhook.HeaderID, ""), want: webhook.ErrMissingHeader},
		{name: "blank webhook-signature", payload: validBody, header: with(good, webhook.HeaderSignature, "   "), want: webhook.ErrMissingHeader},

		{name: "signature without version", payload: validBody, header: with(good, webhook.HeaderSignature, strings.TrimPrefix(goodSig, "v1,")), want: webhook.ErrMalformedHeader},
		{name: "signature version only", payload: validBody, header: with(good, webhook.HeaderSignature, "v1"), want: webhook.ErrMalformedHeader},
		{name: "signature empty after comma", payload: validBody, header: with(good, webhook.HeaderSignature, "v1,"), want: webhook.ErrMalformedHeader},
		{name: "signature not hex", payload: validBody, header: with(good, webhook.HeaderSignature, "v1,"+strings.Repeat("zz", 32)), want: webhook.ErrMalformedHeader},
		{name: "signature too short", payload: validBody, header: with(good, webhook.HeaderSignature, goodSig[:len(goodSig)-2]), want: webhook.ErrMalformedHeader},
		{name: "signature too long", payload: validBody, header: with(good, webhook.HeaderSignature, goodSig+"00"), want: webhook.ErrMalformedHeader},
		{name: "signature base64, Standard Webhooks style", payload: validBody, header: with(good, webhook.HeaderSignature, "v1,fl+F9JhC8ToL60edEH5mNkta/JU91SAm5BmXyqH/zyU="), want: webhook.ErrMalformedHeader},
		{name: "only another version", payload: validBody, header: with(good, webhook.HeaderSignature, "v2,"+strings.TrimPrefix(goodSig, "v1,")), want: webhook.ErrMalformedHeader},
		{name: "version in upper case", payload: validBody, header: with(good, webhook.HeaderSignature, "V1,"+strings.TrimPrefix(goodSig, "v1,")), want: webhook.ErrMalformedHeader},
		{name: "two different webhook-ids", payload: validBody, header: with(good, webhook.HeaderID, validID, "msg_other"), want: webhook.ErrMalformedHeader},
		{name: "two different timestamps", payload: validBody, header: with(good, webhook.HeaderTimestamp, "1775064519", "1775064520"), want: webhook.ErrMalformedHeader},

		{name: "timestamp not a number", payload: validBody, header: with(good, webhook.HeaderTimestamp, "yesterday"), want: webhook.ErrInvalidTimestamp},
		{name: "timestamp negative", payload: validBody, header: with(good, webhook.HeaderTimestamp, "-1775064519"), want: webhook.ErrInvalidTimestamp},
		{name: "timestamp with plus sign", payload: validBody, header: with(good, webhook.HeaderTimestamp, "+1775064519"), want: webhook.ErrInvalidTimestamp},
		{name: "timestamp with fraction", payload: validBody, header: with(good, webhook.HeaderTimestamp, "1775064519.5"), want: webhook.ErrInvalidTimestamp},
		{name: "timestamp in exponent form", payload: validBody, header: with(good, webhook.HeaderTimestamp, "1.775064519e9"), want: webhook.ErrInvalidTimestamp},
		{name: "timestamp in milliseconds overflowing", payload: validBody, header: with(good, webhook.HeaderTimestamp, "99999999999999999999"), want: webhook.ErrInvalidTimestamp},
		{name: "timestamp as RFC 3339", payload: validBody, header: with(good, webhook.HeaderTimestamp, "2026-04-01T17:28:39Z"), want: webhook.ErrInvalidTimestamp},

		{name: "empty secret", payload: validBody, header: good, noSecret: true, want: webhook.ErrNoSecret},
		{name: "only empty secrets", payload: validBody, header: good, noSecret: true, opts: []webhook.Option{webhook.WithSecrets("", "")}, want: webhook.ErrNoSecret},

		{name: "signed body not JSON", payload: []byte("not json"), header: signedAt([]byte("not json"), validID, 0, testSecret), want: webhook.ErrInvalidPayload},
		{name: "signed body a JSON array", payload: []byte(`[1]`), header: signedAt([]byte(`[1]`), validID, 0, testSecret), want: webhook.ErrInvalidPayload},
		{name: "signed body JSON null", payload: []byte(`null`), header: signedAt([]byte(`null`), validID, 0, testSecret), want: webhook.ErrInvalidPayload},
		{name: "signed body with a bad created_at", payload: []byte(`{"created_at":"soon"}`), header: signedAt([]byte(`{"created_at":"soon"}`), validID, 0, testSecret), want: webhook.ErrInvalidPayload},
	}
}

// allSentinels are the errors every Verify failure wraps exactly one of.
var allSentinels = []error{
	webhook.ErrNoSecret, webhook.ErrMissingHeader, webhook.ErrMalformedHeader,
	webhook.ErrInvalidTimestamp, webhook.ErrTimestampTooOld, webhook.ErrTimestampTooNew,
	webhook.ErrNoMatchingSignature, webhook.ErrInvalidPayload,
}

func (c verifyCase) run() (*webhook.Event, error) {
	secret := testSecret
	if c.noSecret {
		secret = ""
	}
	opts := append([]webhook.Option{fixedClock()}, c.opts...)
	return webhook.Verify(c.payload, c.header, secret, opts...)
}

func TestVerifyRejects(t *testing.T) {
	for _, c := range rejections(t) {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.run()
			if e != nil {
				t.Errorf("Verify returned an event with error %v", err)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			for _, other := range allSentinels {
				if other != c.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	good := signedAt(validBody, validID, 0, testSecret)
	goodSig := good.Get(webhook.HeaderSignature)
	wrongSig := "v1," + strings.Repeat("ab", 32)
	cases := []verifyCase{
		{name: "canonical headers", header: good},
		{name: "lower-case header names", header: http.Header{
			"webhook-id": {validID}, "webhook-timestamp": {"1775064519"}, "webhook-signature": {goodSig},
		}},
		{name: "mixed-case header names", header: http.Header{
			"WEBHOOK-ID": {validID}, "Webhook-timestamp": {"1775064519"}, "webhook-Signature": {goodSig},
		}},
		{name: "second of two signatures", header: with(good, webhook.HeaderSignature, wrongSig+" "+goodSig)},
		{name: "first of two signatures", header: with(good, webhook.HeaderSignature, goodSig+" "+wrongSig)},
		{name: "signatures in two header lines", header: with(good, webhook.HeaderSignature, wrongSig, goodSig)},
		{name: "unknown versions and junk beside v1", header: with(good, webhook.HeaderSignature, "v2,abc junk v1,zz "+goodSig+" v1a,00")},
		{name: "signature in upper-case hex", header: with(good, webhook.HeaderSignature, "v1,"+strings.ToUpper(strings.TrimPrefix(goodSig, "v1,")))},
		{name: "surrounding spaces", header: with(good, webhook.HeaderSignature, "  "+goodSig+"  ")},
		{name: "repeated identical webhook-id", header: with(good, webhook.HeaderID, validID, validID)},
		{name: "signed with the rotated-in secret", header: good, opts: []webhook.Option{webhook.WithSecrets(oldSecret)}},
		{name: "signed with the rotated-out secret", header: signedAt(validBody, validID, 0, oldSecret), opts: []webhook.Option{webhook.WithSecrets(oldSecret)}},
		{name: "rotated secrets given twice", header: signedAt(validBody, validID, 0, oldSecret), opts: []webhook.Option{webhook.WithSecrets(otherSecret), webhook.WithSecrets("", oldSecret)}},
		{name: "primary secret empty, rotated one set", noSecret: true, header: signedAt(validBody, validID, 0, oldSecret), opts: []webhook.Option{webhook.WithSecrets(oldSecret)}},
		{name: "exactly the tolerance old", header: signedAt(validBody, validID, -webhook.DefaultTolerance, testSecret)},
		{name: "exactly the tolerance ahead", header: signedAt(validBody, validID, webhook.DefaultTolerance, testSecret)},
		{name: "old under a longer tolerance", header: signedAt(validBody, validID, -time.Hour, testSecret), opts: []webhook.Option{webhook.WithTolerance(time.Hour)}},
		{name: "zero tolerance means the default", header: signedAt(validBody, validID, -webhook.DefaultTolerance, testSecret), opts: []webhook.Option{webhook.WithTolerance(0)}},
		{name: "nil option ignored", header: good, opts: []webhook.Option{nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.payload = validBody
			e, err := c.run()
			if err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if e.ID != "evt_1" || e.Type != webhook.EventOrderCreated || e.WebhookID != validID {
				t.Errorf("event = %q %q %q", e.ID, e.Type, e.WebhookID)
			}
		})
	}
}

// TestVerifyUsesTheClock: the same delivery is accepted or refused depending only on the
// injected clock, with no real time involved.
func TestVerifyUsesTheClock(t *testing.T) {
	h := signedAt(validBody, validID, 0, testSecret)
	for _, c := range []struct {
		now  time.Time
		want error
	}{
		{testNow, nil},
		{testNow.Add(webhook.DefaultTolerance), nil},
		{testNow.Add(webhook.DefaultTolerance + time.Second), webhook.ErrTimestampTooOld},
		{testNow.Add(-webhook.DefaultTolerance - time.Second), webhook.ErrTimestampTooNew},
		{time.Unix(0, 0), webhook.ErrTimestampTooNew},
	} {
		_, err := webhook.Verify(validBody, h, testSecret, webhook.WithNow(func() time.Time { return c.now }))
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("at %s: Verify = %v, want %v", c.now.Format(time.RFC3339), err, c.want)
		}
	}
}

// TestVerifyDoesNotKeepPayload: the event does not alias the caller's buffer.
func TestVerifyDoesNotKeepPayload(t *testing.T) {
	buf := append([]byte(nil), validBody...)
	e, err := webhook.Verify(buf, signedAt(buf, validID, 0, testSecret), testSecret, fixedClock())
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if string(e.Raw) != string(validBody) || !strings.Contains(string(e.Data.Object), "ORD-1") {
		t.Errorf("event changed with the caller's buffer: %s", e.Raw)
	}
}
