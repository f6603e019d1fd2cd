package kelviqtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// send sends a JSON request with the credential the path needs and
// returns the status and the decoded body. Every response of a status the
// operation declares must validate against the spec.
func send(t *testing.T, srv *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var data string
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		data = string(b)
	}
	hdr := bearer(ServerKey)
	if strings.HasPrefix(path, "/partner/") {
		hdr = partner(PartnerKey)
	}
	res, raw := do(t, srv, method, path, data, hdr)
	s := mustSpec(t)
	p, _, _ := strings.Cut(path, "?")
	if op, _, _ := s.router.find(method, p); op != nil && op.byCode[res.StatusCode] != nil {
		validateResponse(t, op, res.StatusCode, res.Header, raw)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s: not JSON", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, out
}

// mustSend is send that fails the test on another status than want.
func mustSend(t *testing.T, srv *Server, want int, method, path string, body any) map[string]any {
	t.Helper()
	status, out := send(t, srv, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

func seeded(t *testing.T, seed string, opts ...Option) *Server {
	t.Helper()
	return NewServer(t, append([]Option{WithSeed(strings.NewReader(seed))}, opts...)...)
}

// results is the results of a list body.
func results(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	list, ok := body["results"].([]any)
	if !ok {
		t.Fatalf("no results in %v", body)
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = x.(map[string]any)
	}
	return out
}

func TestCustomerLifecycle(t *testing.T) {
	srv := NewServer(t)
	if body := mustSend(t, srv, 200, "GET", "/customers/", nil); body["count"] != 0.0 || len(results(t, body)) != 0 {
		t.Fatalf("a new fake has customers: %v", body)
	}
	created := mustSend(t, srv, 201, "POST", "/customers/", map[string]any{
		"customerId": "cust_1", "email": "jane@example.com", "name": "Jane", "metadata": map[string]any{"plan": "pro"},
	})
	if created["customerId"] != "cust_1" || created["name"] != "Jane" || created["id"] == "" || created["createdOn"] == nil {
		t.Fatalf("created %v", created)
	}
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "cust_2"})

	// A customerId already stored is refused, naming the field.
	if status, body := send(t, srv, "POST", "/customers/", map[string]any{"customerId": "cust_1"}); status != 400 || body["customerId"] == nil {
		t.Fatalf("duplicate customerId: %d %v", status, body)
	}

	updated := mustSend(t, srv, 200, "PATCH", "/customers/cust_1/", map[string]any{"name": "Jane Roe", "email": nil})
	if updated["name"] != "Jane Roe" || updated["email"] != nil || updated["id"] != created["id"] ||
		updated["metadata"].(map[string]any)["plan"] != "pro" || updated["createdOn"] != created["createdOn"] {
		t.Fatalf("updated %v (created %v)", updated, created)
	}

	list := results(t, mustSend(t, srv, 200, "GET", "/customers/", nil))
	if len(list) != 2 || list[0]["customerId"] != "cust_1" || list[0]["name"] != "Jane Roe" || list[1]["customerId"] != "cust_2" {
		t.Fatalf("list %v", list)
	}
	if found := results(t, mustSend(t, srv, 200, "GET", "/customers/?search=ROE", nil)); len(found) != 1 || found[0]["customerId"] != "cust_1" {
		t.Fatalf("search: %v", found)
	}

	// An unknown path id is 404, through the client too.
	if status, body := send(t, srv, "PATCH", "/customers/nobody/", map[string]any{"name": "x"}); status != 404 || body["detail"] != "Customer not found." {
		t.Fatalf("unknown customer: %d %v", status, body)
	}
	c := newClient(t, srv)
	_, err := c.UpdateCustomerWithResponse(context.Background(), "nobody", api.UpdateCustomerJSONRequestBody{})
	var kerr *kelviq.Error
	if !errors.As(err, &kerr) || kerr.StatusCode != 404 {
		t.Fatalf("client: %v", err)
	}
}

// 250 stored customers in pages of 100: three pages, the count, next and
// previous links, and the end; the client's iterator reads all of them.
func TestPaginationOver250Customers(t *testing.T) {
	var items []string
	for i := range 250 {
		items = append(items, fmt.Sprintf(`{"customerId":"cust_%03d"}`, i))
	}
	srv := seeded(t, `{"customers":[`+strings.Join(items, ",")+`]}`)
	base := srv.URL + "/customers/"
	want := []struct {
		n          int
		first      string
		next, prev any
	}{
		{100, "cust_000", base + "?page=2&page_size=100", nil},
		{100, "cust_100", base + "?page=3&page_size=100", base + "?page_size=100"},
		{50, "cust_200", nil, base + "?page=2&page_size=100"},
	}
	for i, w := range want {
		body := mustSend(t, srv, 200, "GET", fmt.Sprintf("/customers/?page=%d&page_size=100", i+1), nil)
		list := results(t, body)
		if body["count"] != 250.0 || len(list) != w.n || list[0]["customerId"] != w.first || body["next"] != w.next || body["previous"] != w.prev {
			t.Errorf("page %d: count %v, %d results from %v, next %v, previous %v; want %d from %s, next %v, previous %v",
				i+1, body["count"], len(list), list[0]["customerId"], body["next"], body["previous"], w.n, w.first, w.next, w.prev)
		}
	}
	if status, body := send(t, srv, "GET", "/customers/?page=4&page_size=100", nil); status != 404 || body["detail"] != "Invalid page." {
		t.Errorf("past the end: %d %v", status, body)
	}
	// Without page_size: kelviq's default of 10.
	if body := mustSend(t, srv, 200, "GET", "/customers/", nil); len(results(t, body)) != 10 {
		t.Errorf("default page size: %d results", len(results(t, body)))
	}

	size := 100
	var got []string
	for cust, err := range newClient(t, srv).ListCustomersIter(context.Background(), &api.ListCustomersParams{PageSize: &size}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *cust.CustomerID)
	}
	if len(got) != 250 || got[0] != "cust_000" || got[249] != "cust_249" {
		t.Fatalf("the iterator read %d customers", len(got))
	}
	pages := 0
	for _, r := range srv.Requests() {
		if r.OperationID == "listCustomers" && r.Query.Get("page_size") == "100" && r.Status == 200 {
			pages++
		}
	}
	if pages != 3+3 { // the three pages above, then the iterator's three
		t.Errorf("%d pages of 100 served", pages)
	}
}

func TestPartnerOrganizationLifecycle(t *testing.T) {
	srv := NewServer(t)
	org := mustSend(t, srv, 201, "POST", "/partner/organizations/", map[string]any{
		"externalId": "ext-1", "email": "owner@one.example.com", "businessName": "One & Co",
	})
	id, _ := org["organizationIdentifier"].(string)
	if org["partnerExternalId"] != "ext-1" || org["organizationSlug"] != "one-co" || id == "" ||
		!strings.HasPrefix(org["serverKey"].(string), "sk_test_") {
		t.Fatalf("provisioned %v", org)
	}
	second := mustSend(t, srv, 201, "POST", "/partner/organizations/", map[string]any{
		"externalId": "ext-2", "email": "owner@two.example.com", "businessName": "One & Co",
	})
	if second["organizationSlug"] != "one-co-2" || second["organizationIdentifier"] == id {
		t.Fatalf("second organization %v", second)
	}

	if got := mustSend(t, srv, 200, "GET", "/partner/organizations/"+id+"/", nil); got["partnerExternalId"] != "ext-1" {
		t.Fatalf("by id: %v", got)
	}
	if got := mustSend(t, srv, 200, "GET", "/partner/organizations/"+strings.ToUpper(id)+"/", nil); got["partnerExternalId"] != "ext-1" {
		t.Fatalf("by upper-case id: %v", got)
	}
	if got := mustSend(t, srv, 200, "GET", "/partner/organizations/by-external-id/ext-2/", nil); got["organizationIdentifier"] != second["organizationIdentifier"] {
		t.Fatalf("by external id: %v", got)
	}
	list := mustSend(t, srv, 200, "GET", "/partner/organizations/", nil)
	if list["count"] != 2.0 || len(results(t, list)) != 2 {
		t.Fatalf("list %v", list)
	}
	if one := results(t, mustSend(t, srv, 200, "GET", "/partner/organizations/?external_id=ext-2", nil)); len(one) != 1 || one[0]["partnerExternalId"] != "ext-2" {
		t.Fatalf("external_id filter: %v", one)
	}

	if status, body := send(t, srv, "POST", "/partner/organizations/", map[string]any{"externalId": "ext-1", "email": "new@example.com"}); status != 400 || body["externalId"] == nil {
		t.Errorf("duplicate externalId: %d %v", status, body)
	}
	if status, _ := send(t, srv, "POST", "/partner/organizations/", map[string]any{"externalId": "ext-3", "email": "OWNER@one.example.com"}); status != 409 {
		t.Errorf("e-mail taken: %d", status)
	}
	for _, p := range []string{"/partner/organizations/00000000-0000-4000-8000-000000000999/", "/partner/organizations/by-external-id/nope/"} {
		if status, body := send(t, srv, "GET", p, nil); status != 404 || body["detail"] != "Organization not found." {
			t.Errorf("%s: %d %v", p, status, body)
		}
	}
}

// entitlementOf is the one entitlement of cust's feature.
func entitlementOf(t *testing.T, srv *Server, cust, feature string) map[string]any {
	t.Helper()
	body := mustSend(t, srv, 200, "GET", "/entitlements/?customer_id="+cust+"&feature_id="+feature, nil)
	list, _ := body["entitlements"].([]any)
	if body["customerId"] != cust || len(list) != 1 {
		t.Fatalf("entitlements of %s/%s: %v", cust, feature, body)
	}
	return list[0].(map[string]any)
}

// Usage reported with SET and DELTA changes currentUsage and remaining; a
// METER with a hard limit loses access when exhausted, one without keeps it.
func TestUsageChangesEntitlements(t *testing.T) {
	srv := NewServer(t, WithSeed(bytes.NewReader(ExampleSeed)))
	all := mustSend(t, srv, 200, "GET", "/entitlements/?customer_id=cust_acme", nil)
	if list, _ := all["entitlements"].([]any); len(list) != 3 {
		t.Fatalf("entitlements of cust_acme: %v", all)
	}
	if body := mustSend(t, srv, 200, "GET", "/entitlements/?customer_id=cust_nobody", nil); len(body["entitlements"].([]any)) != 0 {
		t.Fatalf("a customer without entitlements: %v", body)
	}
	report := func(feature, behaviour string, value int) map[string]any {
		t.Helper()
		return mustSend(t, srv, 200, "POST", "/report/usage/", map[string]any{
			"customerId": "cust_acme", "featureId": feature, "behaviour": behaviour, "value": value,
		})
	}
	check := func(feature string, usage, remaining float64, access bool) {
		t.Helper()
		e := entitlementOf(t, srv, "cust_acme", feature)
		if e["currentUsage"] != usage || e["remaining"] != remaining || e["hasAccess"] != access {
			t.Errorf("%s: usage %v remaining %v access %v; want %v %v %v", feature, e["currentUsage"], e["remaining"], e["hasAccess"], usage, remaining, access)
		}
	}
	check("api-calls", 0, 1000, true)
	if r := report("api-calls", "SET", 990); r["value"] != 990.0 || r["behaviour"] != "SET" || r["featureId"] != "api-calls" {
		t.Errorf("report answer %v", r)
	}
	check("api-calls", 990, 10, true)
	report("api-calls", "DELTA", 9)
	check("api-calls", 999, 1, true)
	report("api-calls", "DELTA", 1) // exhausted: the hard limit takes access away
	check("api-calls", 1000, 0, false)
	report("api-calls", "DELTA", 5)
	check("api-calls", 1005, 0, false)
	report("api-calls", "DELTA", -10)
	check("api-calls", 995, 5, true)

	check("seats", 3, 7, true) // seeded usage
	report("seats", "DELTA", 20)
	check("seats", 23, 0, true) // a soft limit keeps access

	// The flag is untouched.
	if e := entitlementOf(t, srv, "cust_acme", "advanced-analytics"); e["hasAccess"] != true || e["currentUsage"] != nil {
		t.Errorf("flag %v", e)
	}
	// Usage that would go below zero is refused and changes nothing.
	if status, body := send(t, srv, "POST", "/report/usage/", map[string]any{"customerId": "cust_acme", "featureId": "seats", "behaviour": "DELTA", "value": -24}); status != 400 || body["value"] == nil {
		t.Errorf("negative usage: %d %v", status, body)
	}
	check("seats", 23, 0, true)

	// Through the client, as the entitlements cache reads it.
	feature := "api-calls"
	res, err := newClient(t, srv).GetCustomerEntitlementsWithResponse(context.Background(), &api.GetCustomerEntitlementsParams{CustomerID: "cust_acme", FeatureID: &feature})
	if err != nil || len(res.JSON200.Entitlements) != 1 {
		t.Fatalf("client: %v", err)
	}
	if e := res.JSON200.Entitlements[0]; *e.FeatureID != feature || *e.HasAccess != true || e.CurrentUsage.MustGet() != 995 {
		t.Errorf("client read %+v", e)
	}
}

func TestCheckoutSessionLifecycle(t *testing.T) {
	srv := NewServer(t, WithSeed(bytes.NewReader(ExampleSeed)))
	create := func(customer string) string {
		t.Helper()
		body := map[string]any{"planIdentifier": "plan-pro", "successUrl": "https://example.com/ok", "chargePeriod": "MONTHLY", "metadata": map[string]any{"ref": "A-1"}}
		if customer != "" {
			body["customerId"] = customer
		}
		out := mustSend(t, srv, 201, "POST", "/checkout/", body)
		id, _ := out["checkoutSessionId"].(string)
		if id == "" || out["checkoutUrl"] != srv.URL+filesPath+"/checkout/"+id+"/" {
			t.Fatalf("created %v", out)
		}
		return id
	}
	first := create("cust_acme")
	second := create("") // kelviq makes the customer up
	if first == second {
		t.Fatal("two sessions with one id")
	}

	got := mustSend(t, srv, 200, "GET", "/checkout/sessions/"+first+"/", nil)
	cust := got["customer"].(map[string]any)
	if got["id"] != first || got["status"] != "open" || cust["customerId"] != "cust_acme" || cust["name"] != "Acme Corp" ||
		got["metadata"].(map[string]any)["ref"] != "A-1" || got["selectedData"].(map[string]any)["planIdentifier"] != "plan-pro" {
		t.Fatalf("retrieved %v", got)
	}
	list := mustSend(t, srv, 200, "GET", "/checkout/sessions/", nil)
	if l := results(t, list); list["count"] != 2.0 || len(l) != 2 || l[0]["id"] != first || l[1]["id"] != second {
		t.Fatalf("list %v", list)
	}
	if l := results(t, mustSend(t, srv, 200, "GET", "/checkout/sessions/?search=acme", nil)); len(l) != 1 || l[0]["id"] != first {
		t.Fatalf("search: %v", l)
	}
	if l := results(t, mustSend(t, srv, 200, "GET", "/checkout/sessions/?status=expired", nil)); len(l) != 0 {
		t.Fatalf("status filter: %v", l)
	}
	if l := results(t, mustSend(t, srv, 200, "GET", "/checkout/sessions/?end_date=2020-01-01", nil)); len(l) != 0 {
		t.Fatalf("date filter: %v", l)
	}
	if ev := results(t, mustSend(t, srv, 200, "GET", "/checkout/sessions/"+first+"/events/", nil)); len(ev) != 1 || ev[0]["code"] != "checkout_session.created" {
		t.Fatalf("events: %v", ev)
	}
	// The made-up customer is stored.
	if l := mustSend(t, srv, 200, "GET", "/customers/", nil); l["count"] != 4.0 {
		t.Fatalf("customers after checkout: %v", l["count"])
	}
	for _, p := range []string{"/checkout/sessions/cs_nope/", "/checkout/sessions/cs_nope/events/"} {
		if status, body := send(t, srv, "GET", p, nil); status != 404 || body["detail"] != "Checkout session not found." {
			t.Errorf("%s: %d %v", p, status, body)
		}
	}
}

func TestSeedErrors(t *testing.T) {
	for _, tc := range []struct{ seed, want string }{
		{`{"customers":[],"products":[],"plans":{}}`, `unknown top-level key "plans", "products" (the keys are customers, entitlements, partnerOrganizations)`},
		{`[]`, `not a JSON object`},
		{`{"customers":{}}`, `customers: not an array of objects`},
		{`{"customers":[{"name":"x"}]}`, `customers[0]: customerId is required`},
		{`{"customers":[{"customerId":"a"},{"customerId":"a"}]}`, `customers[1]: customerId "a" is used twice`},
		{`{"customers":[{"customerId":"a","email":"not-an-email"}]}`, `customers[0]: does not match the spec's CustomerResponse: email:`},
		{`{"customers":[{"customerId":"a","plan":"pro"}]}`, `customers[0]: properties the spec's CustomerResponse does not declare: plan`},
		{`{"entitlements":[{"customerId":"a","featureId":"f"}]}`, `entitlements[0]: featureType is required`},
		{`{"entitlements":[{"customerId":"a","featureId":"f","featureType":"METER","usageLimit":"ten"}]}`, `entitlements[0]: does not match the spec's EntitlementDetail: usageLimit:`},
		{`{"entitlements":[{"customerId":"a","featureId":"f","featureType":"FLAG","resetAt":null}]}`, `entitlements[0]: does not match the spec's EntitlementDetail: resetAt:`},
		{`{"partnerOrganizations":[{"organizationSlug":"x"}]}`, `partnerOrganizations[0]: partnerExternalId is required`},
		{`{"partnerOrganizations":[{"partnerExternalId":"x","organizationIdentifier":"nope"}]}`, `partnerOrganizations[0]: does not match the spec's PartnerOrganization: organizationIdentifier:`},
		// Regression: a syntax error anywhere was "not a JSON object with
		// the keys …", with no word of where.
		{"{\n  \"customers\": [\n    {\"customerId\": \"a\",}\n  ]\n}", `invalid JSON at line 3, column 24: invalid character '}'`},
		{`{"customers":[`, `invalid JSON: it ends in the middle of a value`},
		// Regressions: a repeated top-level key kept only its last list;
		// two customers could share an id.
		{`{"customers":[{"customerId":"a"}],"entitlements":[],"customers":[{"customerId":"b"}]}`, `the top-level key "customers" appears twice`},
		{`{"customers":[{"customerId":"a"},{"customerId":"b","id":"00000001-0000-4000-8000-000000000001"}]}`, `customers[1]: id "00000001-0000-4000-8000-000000000001" is used twice`},
	} {
		_, err := NewHandler(WithSeed(strings.NewReader(tc.seed)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("seed %s: error %v, want one containing %q", tc.seed, err, tc.want)
		}
	}
	if _, err := NewHandler(WithSeed(strings.NewReader(`{}`)), WithStateless()); err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Errorf("WithSeed with WithStateless: %v", err)
	}
}

// Reset puts the state back to the seed and clears every fault.
func TestReset(t *testing.T) {
	srv := NewServer(t, WithSeed(bytes.NewReader(ExampleSeed)), WithFault("listOrders", Fault{Status: 500}))
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "cust_new"})
	mustSend(t, srv, 200, "POST", "/report/usage/", map[string]any{"customerId": "cust_acme", "featureId": "seats", "behaviour": "SET", "value": 9})
	if err := srv.SetFault("listCustomers", Fault{Status: 503}); err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	if body := mustSend(t, srv, 200, "GET", "/customers/", nil); body["count"] != 3.0 {
		t.Errorf("customers after Reset: %v", body["count"])
	}
	if e := entitlementOf(t, srv, "cust_acme", "seats"); e["currentUsage"] != 3.0 {
		t.Errorf("usage after Reset: %v", e["currentUsage"])
	}
	mustSend(t, srv, 200, "GET", "/orders/", nil)
	// Ids made after a Reset start again: runs are reproducible.
	again := mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "cust_new"})
	if again["id"] != objectUUID(kindCustomer, 5) {
		t.Errorf("id after Reset: %v", again["id"])
	}
}

// Concurrent creates and DELTA reports lose nothing and double nothing
// (run with -race).
func TestStateUnderConcurrency(t *testing.T) {
	srv := NewServer(t, WithSeed(bytes.NewReader(ExampleSeed)), WithoutRecording())
	const workers, each = 8, 20
	errs := make(chan string, workers*each*2)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				for _, rq := range []struct{ path, body string }{
					{"/customers/", fmt.Sprintf(`{"customerId":"c_%d_%d"}`, w, i)},
					{"/report/usage/", `{"value":2,"customerId":"cust_acme","featureId":"api-calls","behaviour":"DELTA"}`},
				} {
					res, body := do(t, srv, "POST", rq.path, rq.body, bearer(ServerKey))
					if res.StatusCode >= 300 {
						errs <- fmt.Sprintf("%s: %d %s", rq.path, res.StatusCode, body)
					}
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if body := mustSend(t, srv, 200, "GET", "/customers/?page_size=1", nil); body["count"] != float64(3+workers*each) {
		t.Errorf("customers: %v, want %d", body["count"], 3+workers*each)
	}
	if e := entitlementOf(t, srv, "cust_acme", "api-calls"); e["currentUsage"] != float64(2*workers*each) {
		t.Errorf("usage %v, want %d", e["currentUsage"], 2*workers*each)
	}
}

// Ids the fake makes skip those a seed holds: a seeded organization with
// an id of the fake's own form stays reachable after a provision, and no
// two customers share an id.
func TestMadeIDsSkipSeededOnes(t *testing.T) {
	// The seed has two objects, so the fake numbers from 3: the provision
	// would take 3, the create after it 4.
	seededOrg := objectUUID(kindOrganization, 3)
	seededCust := objectUUID(kindCustomer, 4)
	srv := seeded(t, `{"customers":[{"customerId":"c1","id":"`+seededCust+`"}],
		"partnerOrganizations":[{"partnerExternalId":"e1","organizationIdentifier":"`+seededOrg+`"}]}`)
	org := mustSend(t, srv, 201, "POST", "/partner/organizations/", map[string]any{"externalId": "e2", "email": "o@example.com"})
	if org["organizationIdentifier"] == seededOrg {
		t.Fatalf("provisioned with the seeded organization's id %s", seededOrg)
	}
	status, got := send(t, srv, "GET", "/partner/organizations/"+seededOrg+"/", nil)
	if status != 200 || got["partnerExternalId"] != "e1" {
		t.Fatalf("the seeded organization by id: %d %v", status, got)
	}
	cust := mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "c2"})
	if cust["id"] == seededCust {
		t.Fatalf("created customer with the seeded customer's id %s", seededCust)
	}
}
