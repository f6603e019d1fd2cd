package webhook_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/webhook"
)

// Test secrets. None of them, nor their part after "kq_whsec_", may ever appear in an
// error, a response or a log line (TestNoSecretInErrors).
const (
	testSecret  = "kq_whsec_test_5f2b8c1e9a7d4e3f"
	otherSecret = "kq_whsec_other_0c7d19e2b84a6f53"
	oldSecret   = "kq_whsec_old_9e1d6b3a27c4f058"
)

var allTestSecrets = []string{testSecret, otherSecret, oldSecret}

// testNow is the injected current time of every test: 2026-04-01T17:28:39Z.
var testNow = time.Unix(1775064519, 0).UTC()

func fixedClock() webhook.Option {
	return webhook.WithNow(func() time.Time { return testNow })
}

// eventsDir holds the 19 documented deliveries, copied unchanged (testdata/README.md).
const eventsDir = "testdata/events"

// loadEvents returns the documented deliveries by event type (file name without .json).
func loadEvents(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	if len(out) != 19 {
		t.Fatalf("%s holds %d deliveries, want the 19 documented ones", eventsDir, len(out))
	}
	return out
}

// loadEvent returns one documented delivery.
func loadEvent(t testing.TB, eventType string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, eventType+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedAt returns the headers of payload signed with secret at testNow+offset.
func signedAt(payload []byte, id string, offset time.Duration, secret string) http.Header {
	return webhook.Sign(payload, id, testNow.Add(offset), secret)
}

// assertNoSecret fails when s contains any test secret or its part after "kq_whsec_".
func assertNoSecret(t testing.TB, what, s string) {
	t.Helper()
	if containsSecret(s) {
		// Do not print s: it holds the secret.
		t.Errorf("%s contains a secret", what)
	}
}

func containsSecret(s string) bool {
	for _, secret := range allTestSecrets {
		suffix := strings.TrimPrefix(secret, "kq_whsec_")
		if strings.Contains(s, secret) || strings.Contains(s, suffix) {
			return true
		}
	}
	return false
}
