package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/kelviqtest"
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

// GET and DELETE of /__kelviqtest/requests and GET of stats, concurrent
// with traffic past the recording limit: every answer is whole JSON whose
// count matches its list, and the stats stay within the limits.
func TestAdminRequestsUnderConcurrentTraffic(t *testing.T) {
	h, err := kelviqtest.NewHandler(kelviqtest.WithLimits(kelviqtest.Limits{Requests: 50}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withAdmin(h, func(string, ...any) {}))
	defer srv.Close()
	get := func(path string, v any) int {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Error(err)
			return 0
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
		return res.StatusCode
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				req, _ := http.NewRequest("POST", srv.URL+"/customers/", strings.NewReader(fmt.Sprintf(`{"customerId":"w%d-%d"}`, w, i)))
				req.Header.Set("Authorization", "Bearer "+kelviqtest.ServerKey)
				req.Header.Set("Content-Type", "application/json")
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 30 {
				var list struct {
					Requests    []map[string]any `json:"requests"`
					Count       int              `json:"count"`
					MaxRequests int              `json:"maxRequests"`
				}
				if get("/__kelviqtest/requests?operationId=createCustomer", &list) != 200 || list.Count != len(list.Requests) || list.Count > 50 {
					t.Errorf("GET requests: count %d, %d listed, max %d", list.Count, len(list.Requests), list.MaxRequests)
				}
				var st kelviqtest.Stats
				if get("/__kelviqtest/stats", &st) != 200 || st.Stored.Requests > 50 || st.Stored.Requests < 0 {
					t.Errorf("stats: %+v", st.Stored)
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			req, _ := http.NewRequest("DELETE", srv.URL+"/__kelviqtest/requests", nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}
	})
	wg.Wait()
	if st := h.Stats(); st.Stored.Customers != 400 {
		t.Errorf("customers stored: %d, want 400", st.Stored.Customers)
	}
}
