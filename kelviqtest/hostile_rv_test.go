package kelviqtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// An object larger than Limits.StateBytes on its own is answered and not
// kept, as documented; it must not take every other object with it. Before,
// trim dropped the oldest of the kind holding the most bytes until the state
// fit, so the huge newest customer pushed out every older customer first,
// and went last: one request emptied the fake.
func TestObjectOverStateBytesAloneKeepsTheOthers(t *testing.T) {
	srv := NewServer(t, WithLimits(Limits{StateBytes: 100 << 10}), WithoutRecording())
	for i := range 5 {
		mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": fmt.Sprintf("small%d", i)})
	}
	blob := strings.Repeat("m", 300<<10)
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "huge", "metadata": map[string]any{"blob": blob}})
	st := srv.Stats()
	if st.Stored.Customers != 5 || st.Dropped.Customers != 1 {
		t.Errorf("after one customer over StateBytes alone: %+v; want the 5 small ones kept, the huge one dropped", st)
	}
	mustSend(t, srv, 200, "PATCH", "/customers/small0/", map[string]any{"name": "still here"})
	// An update that makes a customer too large alone drops that one
	// only; the newer customers are still found.
	mustSend(t, srv, 200, "PATCH", "/customers/small1/", map[string]any{"metadata": map[string]any{"blob": blob}})
	if st := srv.Stats(); st.Stored.Customers != 4 || st.Dropped.Customers != 2 || st.StateBytes > 100<<10 {
		t.Errorf("after an update over StateBytes alone: %+v; want the 4 others kept", st)
	}
	if status, _ := send(t, srv, "PATCH", "/customers/small1/", map[string]any{"name": "x"}); status != 404 {
		t.Errorf("the customer too large alone is still stored: %d", status)
	}
	for _, id := range []string{"small0", "small2", "small3", "small4"} {
		mustSend(t, srv, 200, "PATCH", "/customers/"+id+"/", map[string]any{"name": "still here"})
	}
	if list := results(t, mustSend(t, srv, 200, "GET", "/customers/", nil)); len(list) != 4 {
		t.Errorf("listed %d customers, want 4", len(list))
	}
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "small1"})
	mustSend(t, srv, 200, "PATCH", "/customers/small1/", map[string]any{"name": "back"})
	mustSend(t, srv, 200, "PATCH", "/customers/small4/", map[string]any{"name": "still here"})
	// A usage pair, an organization and a checkout session too large alone
	// are not kept either, and leave the others of their kind.
	mustSend(t, srv, 200, "POST", "/report/usage/", map[string]any{"customerId": "small0", "featureId": "f", "value": 1, "behaviour": "SET"})
	mustSend(t, srv, 200, "POST", "/report/usage/", map[string]any{"customerId": "small0", "featureId": strings.Repeat("f", 200<<10), "value": 1, "behaviour": "SET"})
	if st := srv.Stats(); st.Stored.UsagePairs != 1 || st.Dropped.UsagePairs != 1 || st.Stored.Customers != 5 {
		t.Errorf("after a usage pair over StateBytes alone: %+v; want the first pair and the customers kept", st)
	}
	// A checkout session whose customer (made by it) is too large alone.
	mustSend(t, srv, 201, "POST", "/checkout/", map[string]any{"planIdentifier": "plan-pro", "successUrl": "https://example.com/ok", "chargePeriod": "MONTHLY", "customerId": strings.Repeat("c", 200<<10)})
	if st := srv.Stats(); st.Stored.Customers != 5 {
		t.Errorf("after a checkout session making a customer over StateBytes alone: %+v; want the 5 customers kept", st)
	}
}

// The JSON of a Request never holds a key, the doc says, so that
// kelviq-mock's GET /__kelviqtest/requests can be logged: a key a client
// also put in the query string, the body or another header (a service under
// test that forwards its key by mistake) is redacted there too, as are
// partner keys (kvqp_…) and the fake's own default keys wherever they are.
func TestRequestJSONRedactsKeysOutsideTheirHeaders(t *testing.T) {
	const server = "sk_live_0123456789abcdef"
	const partnerKey = "kvqp_live_partner_secret"
	srv := NewServer(t)
	do(t, srv, "GET", "/customers/?search="+server, "", bearer(server))
	do(t, srv, "POST", "/customers/", `{"customerId":"c1","metadata":{"apiKey":"`+server+`"}}`, bearer(server))
	h := bearer(server)
	h.Set("X-Forwarded-Key", "Bearer "+server)
	do(t, srv, "GET", "/customers/", "", h)
	do(t, srv, "GET", "/partner/organizations/?external_id="+partnerKey, "", bearer(ServerKey)) // the wrong credential
	do(t, srv, "POST", "/customers/", `{"customerId":"c2","name":"`+ServerKey+`"}`, nil)
	// A key where the spec puts none, without a credential header at all.
	do(t, srv, "GET", "/customers/?access_token=tok_other_secret_1&API_KEY=tok_other_secret_2", "", http.Header{"X-Api-Key": {"tok_other_secret_3"}, "X-Auth": {"tok_other_secret_4"}})
	data, err := json.Marshal(srv.Requests())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{server, partnerKey, ServerKey, "tok_other_secret"} {
		if strings.Contains(string(data), s) {
			t.Errorf("the JSON holds the key %q: %s", s, data)
		}
	}
	var got []map[string]any
	if err := json.Unmarshal(data, &got); err != nil || len(got) != 6 {
		t.Fatalf("%v: %s", err, data)
	}
	if got[1]["bodyKind"] != "json" || got[1]["body"].(map[string]any)["customerId"] != "c1" {
		t.Errorf("the redacted body is no longer the JSON it was: %v", got[1])
	}
}
