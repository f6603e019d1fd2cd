package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// call sends a request with the server key and returns status, headers
// and body; a transport error is returned, not fatal.
func call(t *testing.T, method, url, body string) (int, http.Header, string, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+kelviqtest.ServerKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// A fresh connection each time: a dropped one must not be reused.
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(data), nil
}

func mustCall(t *testing.T, method, url, body string) (int, http.Header, string) {
	t.Helper()
	status, hdr, data, err := call(t, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return status, hdr, data
}

func TestParseFaultFlag(t *testing.T) {
	for in, want := range map[string]kelviqtest.Fault{
		"503x3":                        {Status: 503, Times: 3},
		"429,retryAfter=2s":            {Status: 429, RetryAfter: 2 * time.Second},
		"dropx1":                       {DropConnection: true, Times: 1},
		"200,delay=150ms,times=2":      {Status: 200, Delay: 150 * time.Millisecond, Times: 2},
		"500x2,delay=1s,retryAfter=3s": {Status: 500, Times: 2, Delay: time.Second, RetryAfter: 3 * time.Second},
	} {
		nf, err := parseFaultFlag("listCustomers=" + in)
		if err != nil || nf.operation != "listCustomers" || nf.fault.Status != want.Status || nf.fault.Times != want.Times ||
			nf.fault.Delay != want.Delay || nf.fault.RetryAfter != want.RetryAfter || nf.fault.DropConnection != want.DropConnection {
			t.Errorf("%s: %+v %v, want %+v", in, nf, err, want)
		}
	}
	for in, want := range map[string]string{
		"listCustomers":                "want operation=STATUS",
		"listCustomers=":               "want operation=STATUS",
		"=503":                         "want operation=STATUS",
		"listCustomers=abc":            `"abc" is neither a status, drop, nor a setting`,
		"listCustomers=503x0":          "not a positive number",
		"listCustomers=503,speed=1":    `unknown setting "speed"`,
		"listCustomers=503,delay=soon": `"soon" is not a duration`,
	} {
		if _, err := parseFaultFlag(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// The admin endpoint's body: regressions for a number of seconds too large
// for a duration (it overflowed and was refused as "negative") and for
// data after the object (ignored, so a second fault was silently lost).
func TestDecodeFaultRequestRefuses(t *testing.T) {
	for body, want := range map[string]string{
		`{"operation":"listOrders","delay":1e300}`:                 "1e300 seconds is longer than a duration can be",
		`{"operation":"listOrders","retryAfter":9.3e9}`:            "9.3e9 seconds is longer than a duration can be",
		`{"operation":"listOrders","status":503}{"operation":"x"}`: "something follows the JSON object",
		`{"operation":"listOrders","status":503} trailing`:         "something follows the JSON object",
	} {
		if _, err := decodeFaultRequest([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	nf, err := decodeFaultRequest([]byte(`{"operation":"listOrders","delay":9e9} ` + "\n"))
	if err != nil || nf.fault.Delay != 9e9*time.Second {
		t.Errorf("the longest delay: %+v %v", nf, err)
	}
}

// -fault on the built binary: a status a number of times, a Retry-After,
// a dropped connection.
func TestBinaryFaultFlag(t *testing.T) {
	p := startBinary(t, "-quiet",
		"-fault", "listCustomers=503x2",
		"-fault", "reportUsage=429,retryAfter=2s",
		"-fault", "getCustomerEntitlements=dropx1")
	var got []int
	for range 3 {
		status, _, _ := mustCall(t, "GET", p.base+"/customers/", "")
		got = append(got, status)
	}
	if !slices.Equal(got, []int{503, 503, 200}) {
		t.Errorf("listCustomers: %v, want [503 503 200]", got)
	}
	status, hdr, body := mustCall(t, "POST", p.base+"/report/usage/", `{"value":1,"customerId":"c","featureId":"f","behaviour":"DELTA"}`)
	if status != 429 || hdr.Get("Retry-After") != "2" || !strings.Contains(body, `"detail"`) {
		t.Errorf("reportUsage: %d Retry-After %q %s", status, hdr.Get("Retry-After"), body)
	}
	if _, _, _, err := call(t, "GET", p.base+"/entitlements/?customer_id=c", ""); err == nil {
		t.Error("getCustomerEntitlements: answered, want a dropped connection")
	}
	if status, _, _ := mustCall(t, "GET", p.base+"/entitlements/?customer_id=c", ""); status != 200 {
		t.Errorf("getCustomerEntitlements after the drop: %d", status)
	}
	// Through the Go client: the dropped connection is a transport error.
	p2 := startBinary(t, "-quiet", "-fault", "listOrders=drop")
	c, err := kelviq.NewClient(kelviq.WithBaseURL(p2.base), kelviq.WithServerKey(kelviqtest.ServerKey))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListOrdersWithResponse(context.Background(), nil)
	var kerr *kelviq.Error
	if err == nil || errors.As(err, &kerr) {
		t.Errorf("client through a dropped connection: %v", err)
	}
}

// -admin on the built binary: faults set and cleared while it runs, and
// reset back to the seed. Without -admin the endpoint does not exist.
func TestBinaryAdmin(t *testing.T) {
	p := startBinary(t, "-admin", "-seed", exampleSeed)
	admin := func(method, path, body string, want int) string {
		t.Helper()
		status, _, data := mustCall(t, method, p.base+"/__kelviqtest/"+path, body)
		if status != want {
			t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, status, data, want)
		}
		return data
	}
	count := func() float64 {
		t.Helper()
		_, _, data := mustCall(t, "GET", p.base+"/customers/", "")
		var page struct{ Count float64 }
		if err := json.Unmarshal([]byte(data), &page); err != nil {
			t.Fatalf("customers: %s", data)
		}
		return page.Count
	}

	admin("POST", "faults", `{"operation":"listCustomers","status":503,"times":2,"retryAfter":1}`, 200)
	for range 2 {
		if status, hdr, _ := mustCall(t, "GET", p.base+"/customers/", ""); status != 503 || hdr.Get("Retry-After") != "1" {
			t.Fatalf("after the admin fault: %d %v", status, hdr)
		}
	}
	if n := count(); n != 3 {
		t.Fatalf("seeded customers: %v", n)
	}
	admin("POST", "faults", `{"operation":"*","status":500}`, 200)
	if status, _, _ := mustCall(t, "GET", p.base+"/orders/", ""); status != 500 {
		t.Fatalf("AnyOperation fault: %d", status)
	}
	admin("DELETE", "faults", "", 200)
	if status, _, _ := mustCall(t, "GET", p.base+"/orders/", ""); status != 200 {
		t.Fatalf("after DELETE faults: %d", status)
	}

	mustCall(t, "POST", p.base+"/customers/", `{"customerId":"cust_new"}`)
	if n := count(); n != 4 {
		t.Fatalf("after a create: %v", n)
	}
	admin("POST", "faults", `{"operation":"listOrders","status":503,"delay":"10ms"}`, 200)
	admin("POST", "reset", "", 200)
	if n := count(); n != 3 {
		t.Fatalf("after reset: %v customers, want the seed's 3", n)
	}
	if status, _, _ := mustCall(t, "GET", p.base+"/orders/", ""); status != 200 {
		t.Fatalf("a fault survived the reset: %d", status)
	}

	for body, want := range map[string]string{
		`{"operation":"listCustomers","status":503,"tmes":3}`: `unknown field \"tmes\"`,
		`{"status":503}`: `\"operation\" is required`,
		`{"operation":"ListCustomers","status":503}`:   `the spec has no operation \"ListCustomers\"`,
		`{"operation":"listCustomers","delay":"soon"}`: `is not a duration`,
	} {
		if got := admin("POST", "faults", body, 400); !strings.Contains(got, want) {
			t.Errorf("%s: %s, want %q", body, got, want)
		}
	}
	admin("GET", "reset", "", 405)
	admin("POST", "nothing", "", 404)

	plain := startBinary(t, "-quiet")
	if status, _, _ := mustCall(t, "POST", plain.base+"/__kelviqtest/reset", ""); status != 404 {
		t.Errorf("without -admin: %d, want 404", status)
	}
}

// Regression: an admin path with a method not listed (OPTIONS, HEAD, …)
// was "no admin endpoint" 404; it is 405 with Allow, like the fake's own.
func TestAdminMethods(t *testing.T) {
	h, err := kelviqtest.NewHandler(kelviqtest.WithoutRecording())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(withAdmin(h, func(string, ...any) {}))
	defer ts.Close()
	for _, tc := range []struct{ method, path, allow string }{
		{"OPTIONS", "faults", "POST, DELETE"},
		{"HEAD", "faults", "POST, DELETE"},
		{"GET", "faults", "POST, DELETE"},
		{"OPTIONS", "reset", "POST"},
		{"DELETE", "reset", "POST"},
		{"TRACE", "reset", "POST"},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+"/__kelviqtest/"+tc.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 || res.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d, Allow %q; want 405, Allow %q", tc.method, tc.path, res.StatusCode, res.Header.Get("Allow"), tc.allow)
		}
	}
}
