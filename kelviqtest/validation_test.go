package kelviqtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

func TestRequestValidation(t *testing.T) {
	srv := NewServer(t, WithStateless())
	const customer = `{"customerId": "cust_1", "email": "jane@example.com", "name": "Jane"}`
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		contentType string
		status      int
		field       string // the field the 400 names
		header      http.Header
	}{
		{name: "valid body", method: "POST", path: "/customers/", body: customer, status: 201},
		{name: "invalid body: wrong type", method: "POST", path: "/customers/",
			body: `{"customerId": "cust_1", "email": "jane@example.com", "name": 42}`, status: 400, field: "name"},
		{name: "invalid body: bad format", method: "POST", path: "/customers/",
			body: `{"customerId": "cust_1", "email": "not an address"}`, status: 400, field: "email"},
		{name: "invalid body: missing required", method: "POST", path: "/report/usage/",
			body: `{"value": 1, "customerId": "c", "featureId": "f"}`, status: 400, field: "behaviour"},
		{name: "invalid body: enum", method: "POST", path: "/report/usage/",
			body: `{"value": 1, "customerId": "c", "featureId": "f", "behaviour": "ADD"}`, status: 400, field: "behaviour"},
		{name: "invalid body: nested", method: "POST", path: "/checkout/",
			body:   `{"planIdentifier": "p", "successUrl": "https://example.com", "chargePeriod": "MONTHLY", "features": [{"identifier": "seats", "quantity": "five"}]}`,
			status: 400, field: "features.0.quantity"},
		{name: "body not JSON", method: "POST", path: "/customers/", body: `{"customerId":`, status: 400, field: "body"},
		{name: "missing body", method: "POST", path: "/customers/", status: 400, field: "body"},
		{name: "wrong content type", method: "POST", path: "/customers/", body: customer, contentType: "text/plain", status: 400, field: "Content-Type"},

		{name: "valid query", method: "GET", path: "/customers/?page_size=100&page=2", status: 200},
		{name: "invalid query: above maximum", method: "GET", path: "/customers/?page_size=101", status: 400, field: "page_size"},
		{name: "invalid query: not an integer", method: "GET", path: "/customers/?page=first", status: 400, field: "page"},
		{name: "invalid query: enum", method: "GET", path: "/orders/?status=SHIPPED", status: 400, field: "status"},
		{name: "invalid query: date", method: "GET", path: "/orders/?start_date=yesterday", status: 400, field: "start_date"},
		{name: "missing required query", method: "GET", path: "/entitlements/", status: 400, field: "customer_id"},
		{name: "invalid path parameter", method: "GET", path: "/catalog/products/not-a-uuid/", status: 400, field: "pk"},
		{name: "escaped path parameter", method: "GET", path: "/partner/organizations/by-external-id/acme%2Fcorp/",
			header: partner(PartnerKey), status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = bearer(ServerKey)
			}
			if tt.contentType != "" {
				h = h.Clone()
				h.Set("Content-Type", tt.contentType)
			}
			res, body := do(t, srv, tt.method, tt.path, tt.body, h)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if tt.status != 400 {
				return
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if !isKelviqErrorShape(body) {
				t.Errorf("400 body %s is in none of kelviq's error shapes", body)
			}
			if _, ok := m[tt.field]; !ok {
				t.Errorf("the 400 body does not name %q as a field: %s", tt.field, body)
			}
			if msg := errorMessage(body); !strings.Contains(msg, tt.field+": ") {
				t.Errorf("the message %q does not name %q", msg, tt.field)
			}
		})
	}
}

// The 400 body follows the shape of the operation's documented 400.
func TestBadRequestShapes(t *testing.T) {
	srv := NewServer(t)
	for _, tt := range []struct {
		path string
		key  string // the key of the message
	}{
		{"/charges/", "detail"},       // 400: DetailErrorResponse
		{"/refunds/", "error"},        // 400: RefundErrorResponse
		{"/customers/", "error"},      // no 400 documented
		{"/portal/session/", "error"}, // 400: {customerId: [...]}
	} {
		res, body := do(t, srv, "POST", tt.path, `[]`, bearer(ServerKey))
		var m map[string]any
		if res.StatusCode != 400 || json.Unmarshal(body, &m) != nil {
			t.Fatalf("%s: %d %s", tt.path, res.StatusCode, body)
		}
		if _, ok := m[tt.key].(string); !ok {
			t.Errorf("%s: no %q in %s", tt.path, tt.key, body)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	srv := NewServer(t)
	res, body := do(t, srv, "GET", "/nope/", "", bearer(ServerKey))
	if res.StatusCode != 404 || errorMessage(body) != "Not found." {
		t.Errorf("unknown path: %d %s", res.StatusCode, body)
	}
	res, body = do(t, srv, "GET", "/customers", "", bearer(ServerKey)) // the spec's path ends in '/'
	if res.StatusCode != 404 {
		t.Errorf("path without its trailing slash: %d %s", res.StatusCode, body)
	}
	res, body = do(t, srv, "PUT", "/customers/", "", bearer(ServerKey))
	if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, POST" {
		t.Errorf("unknown method: %d Allow %q %s", res.StatusCode, res.Header.Get("Allow"), body)
	}
	// The edge operations without trailing slash, and kelviq's /api/v1
	// prefix, are served too.
	res, body = do(t, srv, "GET", "/promotions?promotion_id=promo_1", "", bearer(ServerKey))
	if res.StatusCode != 200 {
		t.Errorf("/promotions: %d %s", res.StatusCode, body)
	}
	res, body = do(t, srv, "GET", "/api/v1/customers/", "", bearer(ServerKey))
	if res.StatusCode != 200 {
		t.Errorf("/api/v1/customers/: %d %s", res.StatusCode, body)
	}
}

// Both templates match /partner/organizations/by-external-id/…/ only in
// their own depth, but the literal segment must win over {identifier}.
func TestRouterPrecedence(t *testing.T) {
	s := mustSpec(t)
	op, params, _ := s.router.find("GET", "/partner/organizations/by-external-id/acme/")
	if op == nil || op.id != "retrievePartnerOrganizationByExternalId" || params["externalId"] != "acme" {
		t.Fatalf("got %v %v", op, params)
	}
	op, params, _ = s.router.find("GET", "/catalog/plans/pro/features/f1/")
	if op != nil {
		t.Fatalf("GET on a PATCH/DELETE path matched %s", op.id)
	}
	op, params, _ = s.router.find("PATCH", "/catalog/plans/pro/features/f%201/")
	if op == nil || op.id != "updateCatalogPlanFeature" || params["identifier"] != "pro" || params["feature_id"] != "f 1" {
		t.Fatalf("got %v %v", op, params)
	}
	for _, o := range s.ops {
		got, _, _ := s.router.find(o.method, o.sample.pathFor(o.path))
		if got != o {
			t.Errorf("%s %s routes to %v", o.method, o.sample.pathFor(o.path), got)
		}
	}
}

// The fake's refusals reach kelviq.Client users as *kelviq.Error, with the
// invalid field in FieldErrors.
func TestRefusalsThroughTheClient(t *testing.T) {
	srv := NewServer(t, WithServerKeys(ServerKey))
	c := newClient(t, srv)
	ctx := context.Background()

	// A page_size below 1 the client refuses before sending; a page below
	// 1 it sends, and the fake answers it as kelviq does (404 "Invalid page.").
	pageNo := 0
	_, err := c.ListCustomersWithResponse(ctx, &api.ListCustomersParams{Page: &pageNo})
	var kerr *kelviq.Error
	if !errors.As(err, &kerr) || kerr.StatusCode != 404 || !strings.Contains(err.Error(), "Invalid page") {
		t.Errorf("invalid query value: %v", err)
	}

	body := api.CreateCustomerJSONRequestBody{CustomerID: "cust_1"}
	body.Email.Set("not an address")
	_, err = c.CreateCustomerWithResponse(ctx, body)
	if !errors.As(err, &kerr) || kerr.StatusCode != 400 || len(kerr.FieldErrors["email"]) == 0 {
		t.Errorf("invalid body: %v", err)
	}

	other, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_someone_else"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.ListCustomersWithResponse(ctx, nil)
	if !errors.Is(err, kelviq.ErrUnauthorized) || strings.Contains(err.Error(), "sk_someone_else") {
		t.Errorf("wrong key: %v", err)
	}
}
