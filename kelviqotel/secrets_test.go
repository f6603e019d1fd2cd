package kelviqotel_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// echo is one place a hostile server puts a key it was sent.
type echo struct {
	name  string
	apply func(r *kelviqtest.Response, key string)
}

var echoes = []echo{
	{"json detail", func(r *kelviqtest.Response, k string) {
		r.Body = map[string]any{"detail": k, "message": "bad key " + k}
	}},
	{"plain body", func(r *kelviqtest.Response, k string) {
		r.Body = "you sent " + k
		r.Header.Set("Content-Type", "text/plain")
	}},
	{"header value", func(r *kelviqtest.Response, k string) { r.Header.Set("X-Echo", k) }},
	{"header name", func(r *kelviqtest.Response, k string) { r.Header.Set("X-"+k, "1") }},
	{"request id", func(r *kelviqtest.Response, k string) { r.Header.Set("X-Request-Id", k) }},
	{"retry-after", func(r *kelviqtest.Response, k string) { r.Header.Set("Retry-After", k) }},
	{"content type", func(r *kelviqtest.Response, k string) { r.Header.Set("Content-Type", "application/x-"+k) }},
	{"field errors", func(r *kelviqtest.Response, k string) { r.Body = map[string]any{k: []string{k}} }},
	{"redirect path", func(r *kelviqtest.Response, k string) {
		r.Status = http.StatusFound
		r.Header.Set("Location", "/customers/"+url.PathEscape(k)+"/?key="+url.QueryEscape(k))
	}},
	{"redirect elsewhere", func(r *kelviqtest.Response, k string) {
		// Another origin, an IP literal (no DNS: tests stay offline), the
		// key as user info and path.
		r.Status = http.StatusTemporaryRedirect
		r.Header.Set("Location", "http://"+url.PathEscape(k)+"@127.0.0.1:1/"+url.PathEscape(k)+"/")
	}},
	{"bad success body", func(r *kelviqtest.Response, k string) {
		r.Status = http.StatusOK
		r.Body = map[string]any{"count": k, "results": k}
	}},
}

var echoStatuses = []int{200, 400, 401, 403, 404, 409, 422, 429, 500, 503}

// A server that echoes the key it was sent, anywhere in its answer: no
// span (name, attribute, status, event) and no metric ever shows it.
// Positions, statuses and which key are drawn at random, from fixed seeds;
// FuzzEchoedKey explores more.
func TestEchoedKeyNeverRecorded(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(21, seed))
		checkEcho(t, uint16(rng.Uint32()), uint8(rng.Uint32()), rng.IntN(2) == 0)
	}
}

// FuzzEchoedKey is TestEchoedKeyNeverRecorded for go test -fuzz: mask picks
// the echo positions, status the status.
func FuzzEchoedKey(f *testing.F) {
	f.Add(uint16(0xffff), uint8(0), false)
	f.Add(uint16(1<<8), uint8(3), true)
	f.Fuzz(func(t *testing.T, mask uint16, status uint8, partner bool) {
		checkEcho(t, mask, status, partner)
	})
}

func checkEcho(t *testing.T, mask uint16, statusIndex uint8, partner bool) {
	var picked []echo
	var names []string
	for i, e := range echoes {
		if mask&(1<<i) != 0 {
			picked = append(picked, e)
			names = append(names, e.name)
		}
	}
	status := echoStatuses[int(statusIndex)%len(echoStatuses)]
	t.Run(fmt.Sprintf("%d:partner=%v:%s", status, partner, strings.Join(names, "+")), func(t *testing.T) {
		respond := func(r *http.Request) kelviqtest.Response {
			key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if partner {
				key = r.Header.Get("X-Kelviq-Partner-Key")
			}
			resp := kelviqtest.Response{Status: status, Header: http.Header{}}
			for _, e := range picked {
				e.apply(&resp, key)
			}
			return resp
		}
		srv := kelviqtest.NewServer(t,
			kelviqtest.WithResponseFunc(api.OpListCustomers, respond),
			kelviqtest.WithResponseFunc(api.OpListPartnerOrganizations, respond))
		tel := newTelemetry(t)
		c := newClient(t, srv, tel)
		var err error
		if partner {
			_, err = c.ListPartnerOrganizationsWithResponse(context.Background(), nil)
		} else {
			_, err = c.ListCustomersWithResponse(context.Background(), nil)
		}
		_ = err // any outcome: what matters is what was recorded
		if len(srv.Requests()) == 0 {
			t.Fatal("nothing was sent")
		}
		recorded := everythingRecorded(t, tel)
		for _, secret := range []string{serverKey, partnerKey, "5e1f0a9c77d2", "b38e14c0a6f1", strings.ReplaceAll(serverKey, "_", "-")} {
			if strings.Contains(recorded, secret) {
				t.Errorf("%q was recorded:\n%s", secret, recorded)
			}
		}
	})
}

// everythingRecorded prints every span and metric the SDK holds.
func everythingRecorded(t *testing.T, tel *telemetry) string {
	t.Helper()
	var b strings.Builder
	for _, s := range tel.spans.Ended() {
		fmt.Fprintf(&b, "span %q kind %v status %+v attrs %v events %+v links %+v resource %v scope %+v\n",
			s.Name(), s.SpanKind(), s.Status(), s.Attributes(), s.Events(), s.Links(), s.Resource().Attributes(), s.InstrumentationScope())
	}
	rm := tel.collect(t)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			fmt.Fprintf(&b, "metric %s %+v\n", m.Name, m.Data)
		}
	}
	if !strings.Contains(b.String(), "span ") || !strings.Contains(b.String(), "metric ") {
		t.Fatalf("nothing recorded:\n%s", b.String())
	}
	return b.String()
}
