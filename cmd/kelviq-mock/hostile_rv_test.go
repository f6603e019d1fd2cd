package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// kelviq-mock's request log never holds a key: one a client put in the
// query string as well as its header (a service under test forwarding its
// key by mistake), or a partner key anywhere, is redacted as in
// GET /__kelviqtest/requests.
func TestRequestLogRedactsKeysInTheQuery(t *testing.T) {
	const key = "sk_live_logged_0123456789"
	var stdout, stderr syncBuffer
	base, stop := start(t, []string{"-addr", "127.0.0.1:0"}, &stdout, &stderr)
	for _, q := range []string{"?search=" + key, "?search=kvqp_partner_in_query"} {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", base+"/customers/"+q, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	log := stderr.String()
	if !strings.Contains(log, "GET /customers/?search=%5Bredacted%5D listCustomers 200") {
		t.Errorf("the request is not logged with its query redacted:\n%s", log)
	}
	for _, s := range []string{key, "kvqp_partner_in_query"} {
		if strings.Contains(log, s) {
			t.Errorf("the log holds the key %q:\n%s", s, log)
		}
	}
}
