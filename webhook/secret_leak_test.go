package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kelviq/kelviq-go/webhook"
)

// TestNoSecretInErrors collects every error string the rejection tests produce, every
// answer and log line of a handler rejecting the same deliveries, and asserts that no
// secret (nor its part after "kq_whsec_") appears in any of them.
func TestNoSecretInErrors(t *testing.T) {
	var texts []string
	add := func(what string, s string) { texts = append(texts, what+": "+s) }

	// Every verification failure, for each secret configuration.
	secretSets := [][]webhook.Option{
		nil,
		{webhook.WithSecrets(oldSecret)},
		{webhook.WithSecrets(otherSecret, oldSecret)},
	}
	for _, c := range rejections(t) {
		base := c.opts
		for _, extra := range secretSets {
			c.opts = append(append([]webhook.Option(nil), base...), extra...)
			_, err := c.run()
			if err == nil {
				if len(extra) == 0 {
					t.Errorf("%s: no error", c.name)
				}
				continue
			}
			add(c.name, err.Error())
			add(c.name+" (%+v)", fmt.Sprintf("%+v", err))
			add(c.name+" (%#v)", fmt.Sprintf("%#v", err))
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				add(c.name+" (unwrapped)", u.Error())
			}
		}
	}
	if len(texts) < 3*len(rejections(t)) {
		t.Fatalf("collected %d error texts, want at least %d", len(texts), 3*len(rejections(t)))
	}

	// The same deliveries through a handler: answers and log lines.
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := webhook.NewHandler(testSecret, func(context.Context, *webhook.Event) error {
		return errors.New("callback error")
	}, fixedClock(), webhook.WithSecrets(oldSecret), webhook.WithLogger(logger))
	for _, c := range rejections(t) {
		w := deliver(h, http.MethodPost, c.payload, c.header)
		add(c.name+" (answer)", fmt.Sprint(w.Code, w.Header(), w.Body.String()))
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		w := deliver(h, method, validBody, signedAt(validBody, "msg_leak_"+method, 0, testSecret))
		add(method+" (answer)", fmt.Sprint(w.Code, w.Header(), w.Body.String()))
	}
	add("logs", logs.String())
	if logs.Len() == 0 {
		t.Error("the handler logged nothing")
	}

	// Decoding failures and a misconfigured handler.
	e, err := webhook.Verify(validBody, signedAt(validBody, validID, 0, testSecret), testSecret, fixedClock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Subscription(); err != nil {
		add("decode", err.Error())
	}
	{
		w := httptest.NewRecorder()
		webhook.NewHandler("", nil).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", nil))
		add("misconfigured", w.Body.String())
	}

	for _, s := range texts {
		assertNoSecret(t, "error text", s)
	}

	// The check itself can fail.
	for _, leaked := range []string{"x" + oldSecret + "x", "wrapped: " + testSecret[len("kq_whsec_"):]} {
		if !containsSecret(leaked) {
			t.Error("containsSecret missed a secret")
		}
	}
}
