package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

func buildSpec(t *testing.T) *Table {
	t.Helper()
	data, err := os.ReadFile("../../../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	table, err := Build(data)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func TestSuccessStatuses(t *testing.T) {
	table := buildSpec(t)
	want := map[string][2][]int{ // success, JSON success
		"listCustomers":            {{200}, {200}},
		"createCustomer":           {{201}, {201}},
		"deleteCatalogFeature":     {{204}, {204}}, // the spec declares a JSON body on its 204 (the overlay drops it for oapi-codegen)
		"downloadCatalogPlanFile":  {{302}, nil},
		"licenseActivate":          {{201}, {201}},
		"updateCatalogPlanFeature": {{200}, nil}, // JSON declared with an example and no schema
	}
	for _, op := range table.Operations {
		if len(op.Success) == 0 {
			t.Errorf("%s: no success status", op.ID)
		}
		for _, s := range op.Success {
			if s < 200 || s > 399 {
				t.Errorf("%s: success status %d", op.ID, s)
			}
		}
		if w, ok := want[op.ID]; ok && (!slices.Equal(op.Success, w[0]) || !slices.Equal(op.JSONSuccess, w[1])) {
			t.Errorf("%s: success %v, JSON %v; want %v, %v", op.ID, op.Success, op.JSONSuccess, w[0], w[1])
		}
	}
}

func TestPageInfo(t *testing.T) {
	table := buildSpec(t)
	want := map[string]Page{
		"listCustomers":             {ItemType: "CustomerResponse"},
		"listSubscriptions":         {ItemType: "Subscription"},
		"listCatalogProducts":       {ItemType: "Product"},
		"listOrderEvents":           {ItemType: "OrderEventResponse", PathParams: []PathParam{{"id", "string"}}},
		"listCheckoutSessionEvents": {ItemType: "CheckoutSessionEventResponse", PathParams: []PathParam{{"sessionID", "string"}}},
	}
	n := 0
	for _, op := range table.Operations {
		if op.Paginated != (op.Page != nil) {
			t.Errorf("%s: paginated %v, page info %v", op.ID, op.Paginated, op.Page)
		}
		if !op.Paginated {
			continue
		}
		n++
		if w, ok := want[op.ID]; ok && (op.Page.ItemType != w.ItemType || !slices.Equal(op.Page.PathParams, w.PathParams)) {
			t.Errorf("%s: %+v, want %+v", op.ID, *op.Page, w)
		}
	}
	if n != 13 {
		t.Errorf("%d paginated operations, want the 13 of the spec", n)
	}
}

// A list whose items are an inline schema has no Go type to yield: the
// generator says so instead of guessing.
func TestInlineItemsFailClearly(t *testing.T) {
	data, err := os.ReadFile("../../../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	schemas := spec["components"].(map[string]any)["schemas"].(map[string]any)
	results := schemas["CustomerListResponse"].(map[string]any)["properties"].(map[string]any)["results"].(map[string]any)
	results["items"] = map[string]any{"type": "object"}
	data, err = json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(data)
	if err == nil || !strings.Contains(err.Error(), "inline schema") || !strings.Contains(err.Error(), "/customers/") {
		t.Errorf("got %v, want an error naming the operation and the inline items", err)
	}
}

func TestRangeStatusesFailClearly(t *testing.T) {
	data, err := os.ReadFile("../../../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(string(data), `"302"`, `"3XX"`, 1)
	if _, err := Build([]byte(spec)); err == nil || !strings.Contains(err.Error(), "3XX") {
		t.Errorf("got %v", err)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"id": "id", "session_id": "sessionID", "customerId": "customerID", "type": "argType", "product_pk": "productPk", "url": "url"} {
		if got := argName(in); got != want {
			t.Errorf("argName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"CustomerResponse": "CustomerResponse", "PaginatedPlans": "PaginatedPlans", "3DSecure": "N3DSecure"} {
		if got := typeName(in); got != want {
			t.Errorf("typeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderIterators(t *testing.T) {
	src, err := RenderIterators(buildSpec(t), "kelviq", "github.com/kelviq/kelviq-go/api")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	if !strings.HasPrefix(s, "// Code generated") || !strings.Contains(s, "DO NOT EDIT.") {
		t.Error("no generated-code header")
	}
	for _, want := range []string{
		"func (c *Client) ListCustomersIter(ctx context.Context, params *api.ListCustomersParams, reqEditors ...api.RequestEditorFn) iter.Seq2[api.CustomerResponse, error]",
		"func (c *Client) ListOrderEventsIter(ctx context.Context, id string, params *api.ListOrderEventsParams, reqEditors ...api.RequestEditorFn) iter.Seq2[api.OrderEventResponse, error]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s", want)
		}
	}
	if got := strings.Count(s, "Iter(ctx context.Context"); got != 13 {
		t.Errorf("%d iterators, want 13", got)
	}
	// The committed file is what the generator writes now.
	committed, err := os.ReadFile("../../../kelviq/pagination.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != s {
		t.Error("kelviq/pagination.gen.go is stale: run go generate ./...")
	}
}

func TestRenderGuards(t *testing.T) {
	table := buildSpec(t)
	client, err := os.ReadFile("../../../api/api.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	src, err := RenderGuards(table, client, "kelviq", "github.com/kelviq/kelviq-go/api")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`func (g guardedClient) DeleteCatalogPlanFeature(ctx context.Context, identifier string, featureID string, reqEditors ...api.RequestEditorFn) (*http.Response, error) {`,
		`checkPathParam("deleteCatalogPlanFeature", "feature_id", featureID)`,
		`func (g guardedClient) UpdateCatalogPlanFeatureWithBody(`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the guards lack %s", want)
		}
	}
	// Every method marks its operation; one without path parameters
	// checks nothing.
	listCustomers := `func (g guardedClient) ListCustomers(ctx context.Context, params *api.ListCustomersParams, reqEditors ...api.RequestEditorFn) (*http.Response, error) {
	reqEditors = withoutNil(reqEditors)
	ctx, err := builtFor(ctx, "listCustomers")
	if err != nil {
		return nil, err
	}
	rsp, err := g.ClientInterface.ListCustomers(ctx, params, reqEditors...)
	return rsp, named("listCustomers", err)
}`
	if !strings.Contains(string(src), listCustomers) {
		t.Errorf("ListCustomers is not marked, or checks something:\n%s", src)
	}
	if !strings.Contains(string(src), `ctx, err := builtFor(ctx, "deleteCatalogPlanFeature")`) {
		t.Error("DeleteCatalogPlanFeature is not marked")
	}
	// A path parameter of a named string type (an enum) is checked too.
	enum := strings.Replace(string(client), "DeleteCatalogPlanFeature(ctx context.Context, identifier string, featureID string,", "DeleteCatalogPlanFeature(ctx context.Context, identifier string, featureID PlanFeatureKind,", 1) + "\ntype PlanFeatureKind string\n"
	if src, err := RenderGuards(table, []byte(enum), "kelviq", "x/api"); err != nil || !strings.Contains(string(src), `checkPathParam("deleteCatalogPlanFeature", "feature_id", string(featureID))`) {
		t.Errorf("named string type: %v\n%s", err, src)
	}
	// A method the table does not know fails generation.
	bad := strings.Replace(string(client), "type ClientInterface interface {", "type ClientInterface interface {\n\tNoSuchOperation(ctx context.Context, id string) (*http.Response, error)\n", 1)
	if _, err := RenderGuards(table, []byte(bad), "kelviq", "x/api"); err == nil || !strings.Contains(err.Error(), "NoSuchOperation") {
		t.Errorf("unknown method: %v", err)
	}
}

func TestRenderWithResponse(t *testing.T) {
	table := buildSpec(t)
	client, err := os.ReadFile("../../../api/api.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	src, err := RenderWithResponse(table, client, "kelviq", "github.com/kelviq/kelviq-go/api")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`func (c *Client) ListCustomersWithResponse(ctx context.Context, params *api.ListCustomersParams, reqEditors ...api.RequestEditorFn) (*api.ListCustomersResult, error) {`,
		`rsp, err := c.ClientInterface.CreateCustomerWithBody(ctx, contentType, body, reqEditors...)`,
		`return parseResult(c, "createCustomer", rsp, api.ParseCreateCustomerResult)`,
		// Exactly the declared statuses pass on to the parser.
		"if s := rsp.StatusCode; s != 201 {\n\t\treturn nil, c.undeclared(\"createCustomer\", rsp, \"201\")",
		"if s := rsp.StatusCode; s != 302 {\n\t\treturn nil, c.undeclared(\"downloadCatalogPlanFile\", rsp, \"302\")",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the calls lack %s", want)
		}
	}
	if got, want := strings.Count(string(src), "\nfunc (c *Client) "), strings.Count(string(client), "\nfunc (c *ClientWithResponses) "); got != want || got < 64 {
		t.Errorf("%d methods written for %d generated", got, want)
	}
	// A generated method of another shape fails generation, naming it.
	bad := strings.Replace(string(client), "\treturn ParseListCustomersResult(rsp)\n", "\tr, e := ParseListCustomersResult(rsp)\n\treturn r, e\n", 1)
	if _, err := RenderWithResponse(table, []byte(bad), "kelviq", "x/api"); err == nil || !strings.Contains(err.Error(), "ListCustomersWithResponse") {
		t.Errorf("changed shape: %v", err)
	}
}
