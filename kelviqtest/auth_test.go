package kelviqtest

import (
	"net/http"
	"strings"
	"testing"
)

func TestCredentials(t *testing.T) {
	srv := NewServer(t)
	const (
		bearerOp  = "/customers/"             // listCustomers: bearerAuth
		partnerOp = "/partner/organizations/" // listPartnerOrganizations: partnerKeyAuth
	)
	both := bearer(ServerKey)
	both.Set("X-Kelviq-Partner-Key", PartnerKey)

	tests := []struct {
		name   string
		path   string
		header http.Header
		status int
		says   string // part of the 401 message
	}{
		{"server key to a bearer operation", bearerOp, bearer(ServerKey), 200, ""},
		{"any well-formed server key", bearerOp, bearer("sk_live_whatever"), 200, ""},
		{"partner key to a partner operation", partnerOp, partner(PartnerKey), 200, ""},
		{"any well-formed partner key", partnerOp, partner("kvqp_other"), 200, ""},

		{"missing credential, bearer operation", bearerOp, nil, 401, "not provided: this operation takes a server key"},
		{"missing credential, partner operation", partnerOp, nil, 401, "not provided: this operation takes a partner key"},
		{"bearer key to a partner operation", partnerOp, bearer(ServerKey), 401, "takes a partner key (X-Kelviq-Partner-Key header), not a server key"},
		{"partner key to a bearer operation", bearerOp, partner(PartnerKey), 401, "takes a server key (Authorization: Bearer <key>), not a partner key"},
		{"partner key as a bearer token", bearerOp, bearer(PartnerKey), 401, "carries a partner key"},
		{"server key in the partner header", partnerOp, partner(ServerKey), 401, "does not carry a partner key"},
		{"both keys to a bearer operation", bearerOp, both, 401, "not a partner key"},
		{"both keys to a partner operation", partnerOp, both, 401, "not a server key"},
		{"Basic authorization", bearerOp, http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401, `not of the form "Bearer <key>"`},
		{"empty bearer token", bearerOp, http.Header{"Authorization": {"Bearer "}}, 401, `not of the form "Bearer <key>"`},
		{"two Authorization headers", bearerOp, http.Header{"Authorization": {"Bearer a", "Bearer b"}}, 401, "more than one Authorization"},
		{"empty partner key", partnerOp, partner("kvqp_"), 401, "does not carry a partner key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, srv, "GET", tt.path, "", tt.header)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if tt.status != 401 {
				return
			}
			if !isKelviqErrorShape(body) {
				t.Errorf("401 body %s is in none of kelviq's error shapes", body)
			}
			if msg := errorMessage(body); !strings.Contains(msg, tt.says) {
				t.Errorf("message %q does not say %q", msg, tt.says)
			}
			for _, v := range tt.header {
				for _, key := range v {
					key = strings.TrimPrefix(key, "Bearer ")
					if len(key) > 5 && strings.Contains(string(body), key) {
						t.Errorf("the 401 body contains the key: %s", body)
					}
				}
			}
			wantWWW := tt.path == bearerOp
			if got := res.Header.Get("WWW-Authenticate") != ""; got != wantWWW {
				t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// downloadCatalogPlanFile has security: [] and takes no credential; one
// sent anyway is refused, as for any operation that does not name it.
func TestNoCredentialOperation(t *testing.T) {
	srv := NewServer(t)
	path := "/catalog/plans/pro-monthly/file/7a3e3411-cef0-4f4e-bdb6-1f74a4f4d2c0/download/"
	res, body := do(t, srv, "GET", path, "", nil)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302: %s", res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, srv.URL+filesPath+"/") {
		t.Fatalf("Location %q does not point at the fake", loc)
	}
	res, body = do(t, srv, "GET", strings.TrimPrefix(loc, srv.URL), "", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "kelviqtest file ") {
		t.Fatalf("the redirect target answers %d %q", res.StatusCode, body)
	}

	res, body = do(t, srv, "GET", path, "", bearer(ServerKey))
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(errorMessage(body), "takes no credential") {
		t.Fatalf("a server key sent to an operation without security: %d %s", res.StatusCode, body)
	}
}

func TestExactKeys(t *testing.T) {
	srv := NewServer(t, WithServerKeys("sk_one", "sk_two"), WithPartnerKeys("kvqp_one"))
	for _, tt := range []struct {
		path   string
		header http.Header
		status int
	}{
		{"/customers/", bearer("sk_one"), 200},
		{"/customers/", bearer("sk_two"), 200},
		{"/customers/", bearer(ServerKey), 401},
		{"/partner/organizations/", partner("kvqp_one"), 200},
		{"/partner/organizations/", partner(PartnerKey), 401},
	} {
		res, body := do(t, srv, "GET", tt.path, "", tt.header)
		if res.StatusCode != tt.status {
			t.Errorf("%s with %v: status %d, want %d: %s", tt.path, tt.header, res.StatusCode, tt.status, body)
		}
		if tt.status == 401 && !strings.HasPrefix(errorMessage(body), "Invalid") {
			t.Errorf("message %q", errorMessage(body))
		}
	}
}

func TestInvalidKeyOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"partner key as server key": WithServerKeys(PartnerKey),
		"empty server key":          WithServerKeys(""),
		"server key as partner key": WithPartnerKeys(ServerKey),
		"bare prefix":               WithPartnerKeys("kvqp_"),
	} {
		if _, err := NewHandler(opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
