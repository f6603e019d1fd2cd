package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// recorded is the JSON of GET /__kelviqtest/requests, as another process
// reads it.
type recorded struct {
	Requests []struct {
		OperationID string              `json:"operationId"`
		Method      string              `json:"method"`
		Path        string              `json:"path"`
		Query       map[string][]string `json:"query"`
		Header      map[string][]string `json:"header"`
		BodyKind    string              `json:"bodyKind"`
		Body        json.RawMessage     `json:"body"`
		Credentials []string            `json:"credentials"`
		Status      int                 `json:"status"`
	} `json:"requests"`
	Count, Recorded, Dropped, MaxRequests int
}

func getRecorded(t *testing.T, base, query string) (recorded, string) {
	t.Helper()
	status, _, body := mustCall(t, "GET", base+"/__kelviqtest/requests"+query, "")
	if status != 200 {
		t.Fatalf("GET requests%s: %d %s", query, status, body)
	}
	var r recorded
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("GET requests%s: %v: %s", query, err, body)
	}
	return r, body
}

// The recording endpoint on the built binary: requests made with kelviq's
// client are listed with operation, method, path, query and body (JSON as
// JSON), filtered by operationId, never with a key; DELETE forgets them.
func TestBinaryRecordsRequests(t *testing.T) {
	const secret = "sk_live_do_not_record_4711"
	p := startBinary(t, "-quiet", "-admin", "-max-recorded", "5")
	c, err := kelviq.NewClient(kelviq.WithBaseURL(p.base), kelviq.WithServerKey(secret), kelviq.WithPartnerKey(secretPartnerKey))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res, err := c.CreateCustomerWithResponse(ctx, api.CreateCustomerJSONRequestBody{CustomerID: "cust_rec"}); err != nil || res.StatusCode() != 201 {
		t.Fatalf("createCustomer: %v", err)
	}
	for _, v := range []int{3, 4} {
		body := api.ReportUsageJSONRequestBody{CustomerID: "cust_rec", FeatureID: "api-calls", Behaviour: api.ReportUsageRequestBehaviourDELTA, Value: v}
		if _, err := c.ReportUsageWithResponse(ctx, body); err != nil {
			t.Fatalf("reportUsage: %v", err)
		}
	}
	if _, err := c.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: "cust_rec"}); err != nil {
		t.Fatalf("getCustomerEntitlements: %v", err)
	}

	all, raw := getRecorded(t, p.base, "")
	for _, s := range []string{secret, secretPartnerKey} {
		if strings.Contains(raw, s) {
			t.Fatalf("the recording holds a credential: %s", raw)
		}
	}
	var ops []string
	for _, r := range all.Requests {
		ops = append(ops, r.OperationID)
	}
	if strings.Join(ops, ",") != "createCustomer,reportUsage,reportUsage,getCustomerEntitlements" || all.Count != 4 || all.Recorded != 4 || all.Dropped != 0 || all.MaxRequests != 5 {
		t.Fatalf("recorded %v (count %d, recorded %d, dropped %d, max %d)", ops, all.Count, all.Recorded, all.Dropped, all.MaxRequests)
	}
	first := all.Requests[0]
	var body map[string]any
	if err := json.Unmarshal(first.Body, &body); err != nil || first.BodyKind != "json" || body["customerId"] != "cust_rec" ||
		first.Method != "POST" || first.Path != "/customers/" || first.Status != 201 || first.Header["Authorization"][0] != kelviqtest.Redacted {
		t.Errorf("createCustomer recorded as %+v (body %s)", first, first.Body)
	}
	last := all.Requests[3]
	if last.Method != "GET" || last.Query["customer_id"][0] != "cust_rec" || last.BodyKind != "none" || last.Credentials[0] != "bearerAuth" {
		t.Errorf("getCustomerEntitlements recorded as %+v", last)
	}

	usage, _ := getRecorded(t, p.base, "?operationId=reportUsage")
	var values []float64
	for _, r := range usage.Requests {
		var b map[string]any
		json.Unmarshal(r.Body, &b)
		values = append(values, b["value"].(float64))
	}
	if usage.Count != 2 || len(values) != 2 || values[0] != 3 || values[1] != 4 || usage.Recorded != 4 {
		t.Errorf("filtered: count %d, values %v", usage.Count, values)
	}
	two, _ := getRecorded(t, p.base, "?operationId=reportUsage&operationId=createCustomer")
	if two.Count != 3 {
		t.Errorf("two filters: %d", two.Count)
	}
	// A typo is an error naming it, not an empty list.
	status, _, msg := mustCall(t, "GET", p.base+"/__kelviqtest/requests?operationId=ReportUsage", "")
	if status != 400 || !strings.Contains(msg, `did you mean \"reportUsage\"`) {
		t.Errorf("typo: %d %s", status, msg)
	}
	if status, _, msg := mustCall(t, "GET", p.base+"/__kelviqtest/requests?operation=reportUsage", ""); status != 400 || !strings.Contains(msg, "operationId") {
		t.Errorf("unknown parameter: %d %s", status, msg)
	}

	// -max-recorded 5: the oldest go, counted.
	for range 3 {
		c.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: "cust_rec"})
	}
	capped, _ := getRecorded(t, p.base, "")
	if capped.Count != 5 || capped.Dropped != 2 || capped.Requests[0].OperationID != "reportUsage" {
		t.Errorf("over -max-recorded: count %d dropped %d first %s", capped.Count, capped.Dropped, capped.Requests[0].OperationID)
	}

	status, _, msg = mustCall(t, "DELETE", p.base+"/__kelviqtest/requests", "")
	if status != 200 || !strings.Contains(msg, `"cleared":5`) {
		t.Errorf("DELETE: %d %s", status, msg)
	}
	// The admin requests themselves are not recorded: nothing is left.
	if empty, raw := getRecorded(t, p.base, ""); empty.Count != 0 || empty.Dropped != 0 || !strings.Contains(raw, `"requests":[]`) {
		t.Errorf("after DELETE: %s", raw)
	}
	c.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: "cust_rec"})
	if again, _ := getRecorded(t, p.base, ""); again.Count != 1 {
		t.Errorf("recording after DELETE: %d", again.Count)
	}

	// Stats names what is held, dropped and the limits.
	status, _, stats := mustCall(t, "GET", p.base+"/__kelviqtest/stats", "")
	var st kelviqtest.Stats
	if err := json.Unmarshal([]byte(stats), &st); status != 200 || err != nil || st.Stored.Customers != 1 || st.Stored.UsagePairs != 1 || st.Limits.Requests != 5 || st.Limits.Customers != kelviqtest.DefaultLimits().Customers {
		t.Errorf("stats: %d %v %s", status, err, stats)
	}

	// Without -admin nothing is recorded or served.
	plain := startBinary(t, "-quiet")
	if status, _, _ := mustCall(t, "GET", plain.base+"/__kelviqtest/requests", ""); status != 404 {
		t.Errorf("without -admin: %d", status)
	}
}

// -h lists every admin endpoint, and every endpoint it lists is served
// (not 404) by -admin.
func TestHelpListsEveryAdminEndpoint(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("-h: %v\n%s", err, out)
	}
	want := [][2]string{{"POST", "faults"}, {"DELETE", "faults"}, {"POST", "reset"}, {"GET", "requests"}, {"DELETE", "requests"}, {"GET", "stats"}}
	for _, w := range want {
		line := w[0] + strings.Repeat(" ", 7-len(w[0])) + adminPrefix + w[1]
		if !strings.Contains(string(out), line) {
			t.Errorf("-h does not list %q:\n%s", line, out)
		}
	}
	if len(adminEndpoints) != len(want) {
		t.Errorf("%d endpoints in the table, %d checked", len(adminEndpoints), len(want))
	}
	for _, f := range []string{"-max-customers", "-max-usage-pairs", "-max-organizations", "-max-checkout-sessions", "-max-state-bytes", "-max-recorded", "-max-recorded-bytes"} {
		if !strings.Contains(string(out), "  "+f+" ") {
			t.Errorf("-h does not list %s", f)
		}
	}
	h, err := kelviqtest.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(withAdmin(h, func(string, ...any) {}))
	defer ts.Close()
	for _, e := range adminEndpoints {
		body := ""
		if e.name == "faults" && e.method == "POST" {
			body = `{"operation":"listCustomers","status":503}`
		}
		req, _ := http.NewRequest(e.method, ts.URL+adminPrefix+e.name, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s %s: %d", e.method, e.name, res.StatusCode)
		}
	}
}

// A -max-* flag below 1 is refused, naming it.
func TestLimitFlagsRefuseZero(t *testing.T) {
	for _, f := range []string{"-max-customers", "-max-recorded-bytes"} {
		err := run(context.Background(), []string{f, "0", "-addr", "127.0.0.1:0"}, &syncBuffer{}, &syncBuffer{}, nil)
		if err == nil || !strings.Contains(err.Error(), f+" 0: a limit is at least 1") {
			t.Errorf("%s 0: %v", f, err)
		}
	}
}
