package kelviqtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Past Limits.Customers the oldest customer goes: it is no longer listed
// nor updatable, its customerId is free again, and Stats counts it.
func TestLimitsDropOldestCustomers(t *testing.T) {
	srv := NewServer(t, WithLimits(Limits{Customers: 3}))
	for i := 1; i <= 5; i++ {
		mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": fmt.Sprintf("c%d", i)})
	}
	list := results(t, mustSend(t, srv, 200, "GET", "/customers/", nil))
	var ids []string
	for _, c := range list {
		ids = append(ids, c["customerId"].(string))
	}
	if strings.Join(ids, ",") != "c3,c4,c5" {
		t.Errorf("listed %v, want the newest three c3,c4,c5", ids)
	}
	if status, _ := send(t, srv, "PATCH", "/customers/c1/", map[string]any{"name": "x"}); status != 404 {
		t.Errorf("updating a dropped customer: %d, want 404", status)
	}
	if st := srv.Stats(); st.Stored.Customers != 3 || st.Dropped.Customers != 2 || st.Limits.Customers != 3 {
		t.Errorf("stats %+v", st)
	}
	// Its id is free again: created anew, and then the oldest (c3) goes.
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "c1"})
	if status, _ := send(t, srv, "PATCH", "/customers/c3/", map[string]any{"name": "x"}); status != 404 {
		t.Errorf("c3 should have been dropped for c1: %d", status)
	}
	mustSend(t, srv, 200, "PATCH", "/customers/c1/", map[string]any{"name": "back"})
	// Reset forgets the dropped count with the state.
	srv.Reset()
	if st := srv.Stats(); st.Stored.Customers != 0 || st.Dropped.Customers != 0 {
		t.Errorf("after Reset: %+v", st)
	}
}

// The review's attack (issue 19 item 7), scaled down: customers with
// large metadata (300 KiB each, against 1 MiB of state). The state stays
// under Limits.StateBytes, the newest is kept, and an update that grows a
// customer past the limit drops the older ones, not the bound.
func TestLimitsStateBytesWithLargeMetadata(t *testing.T) {
	const limit = 1 << 20
	srv := NewServer(t, WithLimits(Limits{StateBytes: limit}), WithoutRecording())
	blob := strings.Repeat("m", 300<<10)
	for i := range 12 {
		mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": fmt.Sprintf("big%d", i), "metadata": map[string]any{"blob": blob}})
		if st := srv.Stats(); st.StateBytes > limit {
			t.Fatalf("after %d customers: %d state bytes, over the limit %d", i+1, st.StateBytes, limit)
		}
	}
	st := srv.Stats()
	if st.Stored.Customers < 3 || st.Stored.Customers > 4 || st.Dropped.Customers != 12-st.Stored.Customers {
		t.Errorf("12 customers of 300 KiB under 1 MiB: %+v", st)
	}
	list := results(t, mustSend(t, srv, 200, "GET", "/customers/?page_size=100", nil))
	if last := list[len(list)-1]["customerId"]; last != "big11" {
		t.Errorf("newest listed is %v, want big11", last)
	}
	// Small customers, then one update of the newest to 300 KiB more: the
	// oldest go, the bound holds.
	for i := range 5 {
		mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": fmt.Sprintf("small%d", i)})
	}
	mustSend(t, srv, 200, "PATCH", "/customers/small4/", map[string]any{"metadata": map[string]any{"blob": blob}})
	if st := srv.Stats(); st.StateBytes > limit {
		t.Errorf("after an update: %d bytes", st.StateBytes)
	}
	mustSend(t, srv, 200, "PATCH", "/customers/small4/", map[string]any{"name": "still here"})

	// A customer larger than the limit on its own is answered, not kept.
	tiny := NewServer(t, WithLimits(Limits{StateBytes: 100 << 10}))
	mustSend(t, tiny, 201, "POST", "/customers/", map[string]any{"customerId": "huge", "metadata": map[string]any{"blob": blob}})
	if st := tiny.Stats(); st.Stored.Customers != 0 || st.Dropped.Customers != 1 || st.StateBytes != 0 {
		t.Errorf("a customer over the limit alone: %+v", st)
	}
}

// Organizations, checkout sessions and usage pairs are bounded the same
// way; what a dropped organization held (external id, owner e-mail) is
// free again; the usage of a seeded entitlement is never dropped.
func TestLimitsOtherKinds(t *testing.T) {
	srv := NewServer(t, WithSeed(bytes.NewReader(ExampleSeed)),
		WithLimits(Limits{Organizations: 2, CheckoutSessions: 2, UsagePairs: 3, Customers: 100}))
	for i := range 3 {
		mustSend(t, srv, 201, "POST", "/partner/organizations/", map[string]any{"externalId": fmt.Sprintf("ext-%d", i), "email": fmt.Sprintf("o%d@example.com", i), "businessName": "Org"})
	}
	// The seed's organization and ext-0 went (and ext-1 when ext-0 comes back).
	if status, _ := send(t, srv, "GET", "/partner/organizations/by-external-id/ext-0/", nil); status != 404 {
		t.Errorf("dropped organization: %d", status)
	}
	mustSend(t, srv, 200, "GET", "/partner/organizations/by-external-id/ext-2/", nil)
	mustSend(t, srv, 201, "POST", "/partner/organizations/", map[string]any{"externalId": "ext-0", "email": "o0@example.com", "businessName": "Org"})
	if l := mustSend(t, srv, 200, "GET", "/partner/organizations/", nil); l["count"] != 2.0 {
		t.Errorf("organizations listed: %v", l["count"])
	}

	var sessions []string
	for range 3 {
		out := mustSend(t, srv, 201, "POST", "/checkout/", map[string]any{"planIdentifier": "plan-pro", "successUrl": "https://example.com/ok", "chargePeriod": "MONTHLY", "customerId": "cust_acme"})
		sessions = append(sessions, out["checkoutSessionId"].(string))
	}
	if status, _ := send(t, srv, "GET", "/checkout/sessions/"+sessions[0]+"/", nil); status != 404 {
		t.Errorf("dropped session: %d", status)
	}
	mustSend(t, srv, 200, "GET", "/checkout/sessions/"+sessions[2]+"/events/", nil)

	report := func(cust, feature string, v int) {
		mustSend(t, srv, 200, "POST", "/report/usage/", map[string]any{"customerId": cust, "featureId": feature, "behaviour": "DELTA", "value": v})
	}
	report("cust_acme", "api-calls", 7) // seeded: kept whatever follows
	for i := range 10 {
		report(fmt.Sprintf("u%d", i), "f", 5)
	}
	// The dropped pair u0 starts again from 0: a DELTA of -5 would make
	// it negative (400), where a kept pair (u9) allows it.
	if status, _ := send(t, srv, "POST", "/report/usage/", map[string]any{"customerId": "u0", "featureId": "f", "behaviour": "DELTA", "value": -5}); status != 400 {
		t.Errorf("dropped pair kept its usage: %d", status)
	}
	report("u9", "f", -5)
	ent := mustSend(t, srv, 200, "GET", "/entitlements/?customer_id=cust_acme&feature_id=api-calls", nil)
	if got := ent["entitlements"].([]any)[0].(map[string]any)["currentUsage"]; got != 7.0 {
		t.Errorf("seeded usage %v, want 7", got)
	}
	st := srv.Stats()
	if st.Stored.Organizations != 2 || st.Dropped.Organizations != 3 || st.Stored.CheckoutSessions != 2 || st.Dropped.CheckoutSessions != 1 ||
		st.Stored.UsagePairs != 3 || st.Dropped.UsagePairs != 7 {
		t.Errorf("stats %+v", st)
	}
}

// Recorded requests keep the last Limits.Requests and at most
// RequestBytes; a request over the byte limit alone is not kept; both
// count in Dropped.Requests, which ClearRequests starts afresh.
func TestLimitsRecording(t *testing.T) {
	srv := NewServer(t, WithLimits(Limits{Requests: 4, RequestBytes: 256 << 10}))
	for i := range 6 {
		mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": fmt.Sprintf("r%d", i)})
	}
	reqs := srv.Requests()
	if len(reqs) != 4 || !strings.Contains(string(reqs[0].Body), `"r2"`) || !strings.Contains(string(reqs[3].Body), `"r5"`) {
		t.Fatalf("kept %d requests, want r2..r5", len(reqs))
	}
	if st := srv.Stats(); st.Dropped.Requests != 2 || st.Stored.Requests != 4 || st.RequestBytes <= 0 || st.RequestBytes > 256<<10 {
		t.Errorf("stats %+v", st)
	}
	// 100 KiB bodies: at most two fit in 256 KiB.
	pad := strings.Repeat("p", 100<<10)
	for i := range 3 {
		mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": fmt.Sprintf("p%d", i), "name": pad})
	}
	if st := srv.Stats(); st.RequestBytes > 256<<10 || st.Stored.Requests > 2 {
		t.Errorf("with 100 KiB bodies: %+v", st)
	}
	// 300 KiB alone is over: answered, not kept.
	before := srv.Stats().Dropped.Requests
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "huge", "name": strings.Repeat("h", 300<<10)})
	for _, r := range srv.Requests() {
		if strings.Contains(string(r.Body), `"huge"`) {
			t.Error("a request over the byte limit on its own was kept")
		}
	}
	if got := srv.Stats().Dropped.Requests; got != before+1 {
		t.Errorf("dropped %d, want %d", got, before+1)
	}
	if n := srv.ClearRequests(); n == 0 || len(srv.Requests()) != 0 || srv.Stats().Dropped.Requests != 0 {
		t.Errorf("ClearRequests: %d, left %d", n, len(srv.Requests()))
	}
}

// Bad limits and a seed the limits cannot hold are errors naming them.
func TestLimitsInvalid(t *testing.T) {
	if _, err := NewHandler(WithLimits(Limits{Customers: -1})); err == nil || !strings.Contains(err.Error(), "Customers is -1") {
		t.Errorf("negative limit: %v", err)
	}
	_, err := NewHandler(WithSeed(bytes.NewReader(ExampleSeed)), WithLimits(Limits{Customers: 2}))
	if err == nil || !strings.Contains(err.Error(), "the seed has 3 customers, over the limit of 2 (Limits.Customers)") {
		t.Errorf("seed over Customers: %v", err)
	}
	_, err = NewHandler(WithSeed(bytes.NewReader(ExampleSeed)), WithLimits(Limits{StateBytes: 1000}))
	if err == nil || !strings.Contains(err.Error(), "Limits.StateBytes") {
		t.Errorf("seed over StateBytes: %v", err)
	}
	h, err := NewHandler()
	if err != nil || h.Stats().Limits != DefaultLimits() {
		t.Errorf("defaults: %+v %v", h.Stats().Limits, err)
	}
}

// A Request's JSON has the documented fields, the body as JSON, text or
// base64, and never a credential.
func TestRequestJSON(t *testing.T) {
	const secret = "kvqp_secret_4711"
	srv := NewServer(t)
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "j1"})
	do(t, srv, "POST", "/customers/", "not json \x01", bearer("sk_secret_server_key"))
	do(t, srv, "POST", "/customers/", "\xff\xfe", bearer("sk_secret_server_key"))
	do(t, srv, "GET", "/partner/organizations/?external_id=x", "", partner(secret))
	data, err := json.Marshal(srv.Requests())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, "sk_secret_server_key", ServerKey} {
		if strings.Contains(string(data), s) {
			t.Fatalf("the JSON holds a credential: %s", data)
		}
	}
	var got []map[string]any
	if err := json.Unmarshal(data, &got); err != nil || len(got) != 4 {
		t.Fatalf("%v: %s", err, data)
	}
	first := got[0]
	if first["operationId"] != "createCustomer" || first["method"] != "POST" || first["path"] != "/customers/" || first["status"] != 201.0 ||
		first["bodyKind"] != "json" || first["body"].(map[string]any)["customerId"] != "j1" {
		t.Errorf("first: %v", first)
	}
	if h := first["header"].(map[string]any)["Authorization"].([]any); h[0] != Redacted {
		t.Errorf("Authorization: %v", h)
	}
	if got[1]["bodyKind"] != "text" || got[1]["body"] != "not json \x01" || got[1]["status"] != 400.0 || got[1]["problem"] == "" {
		t.Errorf("text body: %v", got[1])
	}
	if got[2]["bodyKind"] != "base64" || got[2]["body"] != "//4=" {
		t.Errorf("binary body: %v", got[2])
	}
	last := got[3]
	if last["bodyKind"] != "none" || last["body"] != nil || last["query"].(map[string]any)["external_id"].([]any)[0] != "x" ||
		last["header"].(map[string]any)["X-Kelviq-Partner-Key"].([]any)[0] != Redacted || last["credentials"].([]any)[0] != "partnerKeyAuth" {
		t.Errorf("partner request: %v", last)
	}
	// The recorded request itself still has the header, for Go tests.
	if srv.Requests()[3].Header.Get("X-Kelviq-Partner-Key") != secret {
		t.Error("Requests lost the header")
	}
}
