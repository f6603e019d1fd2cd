package kelviqgo_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// readmeGate is the handler part of the README's gating snippet (after
// "// In a handler:"), verbatim between the markers: TestReadmeGateIsVerbatim
// compares the two, so the test below drives what the README shows.
func readmeGate(ctx context.Context, w http.ResponseWriter, checker *entitlements.Checker, customerID string) {
	// README:begin
	allowed, err := checker.HasAccess(ctx, customerID, "advanced-analytics")
	switch {
	case errors.Is(err, entitlements.ErrUnavailable): // kelviq down, nothing recent known
		http.Error(w, "try again shortly", http.StatusServiceUnavailable)
		return
	case err != nil: // kelviq refused: a wrong key, an unknown customer
		log.Printf("entitlements: %v", err)
		http.Error(w, "cannot check your plan", http.StatusInternalServerError)
		return
	case !allowed: // (false, nil) only: an error is never "not in your plan"
		http.Error(w, "not in your plan", http.StatusForbidden)
		return
	}
	// README:end
	w.WriteHeader(http.StatusOK) // the feature itself
}

// readmeGateSnippet returns the README's gating snippet after "// In a
// handler:", as lines.
func readmeGateSnippet(t *testing.T) []string {
	t.Helper()
	for _, b := range splitFences(readDoc(t, "README.md")) {
		if !b.code || b.lang != "go" {
			continue
		}
		for i, l := range b.text {
			if strings.TrimSpace(l) == "// In a handler:" && strings.Contains(strings.Join(b.text, "\n"), "HasAccess") {
				return b.text[i+1:]
			}
		}
	}
	t.Fatal(`README.md has no Go block with "// In a handler:" and HasAccess`)
	return nil
}

// The function the tests drive is the README's snippet, line for line.
func TestReadmeGateIsVerbatim(t *testing.T) {
	src := readDoc(t, "readme_gate_test.go")
	begin := strings.Index(src, "\t// README:begin\n")
	end := strings.Index(src, "\t// README:end\n")
	if begin < 0 || end < begin {
		t.Fatal("readme_gate_test.go lost its README markers")
	}
	var ours []string
	for _, l := range strings.Split(strings.TrimSuffix(src[begin+len("\t// README:begin\n"):end], "\n"), "\n") {
		ours = append(ours, strings.TrimPrefix(l, "\t"))
	}
	readme := readmeGateSnippet(t)
	for len(readme) > 0 && strings.TrimSpace(readme[len(readme)-1]) == "" {
		readme = readme[:len(readme)-1]
	}
	if got, want := strings.Join(readme, "\n"), strings.Join(ours, "\n"); got != want {
		t.Fatalf("the README's gating snippet and readmeGate differ:\n--- README:\n%s\n--- readmeGate:\n%s", got, want)
	}
}

// The README's gate against the fake kelviq: 403 only when kelviq answers
// that the plan lacks the feature; a 503 from kelviq gives the end user
// 503, not 403; kelviq's refusal (an unknown customer) is not 403 either.
func TestReadmeGateAgainstFaults(t *testing.T) {
	srv := kelviqtest.NewServer(t, kelviqtest.WithSeed(strings.NewReader(`{
		"customers": [{"customerId": "cust_pro"}, {"customerId": "cust_free"}],
		"entitlements": [{"customerId": "cust_pro", "featureId": "advanced-analytics", "featureType": "BOOLEAN", "hasAccess": true}]
	}`)))
	client, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(kelviqtest.ServerKey), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	checker, err := entitlements.New(client)
	if err != nil {
		t.Fatal(err)
	}
	status := func(customer string) int {
		t.Helper()
		rec := httptest.NewRecorder()
		readmeGate(context.Background(), rec, checker, customer)
		return rec.Code
	}
	// kelviq failing: customers with nothing known get 503, not 403.
	if err := srv.SetFault("getCustomerEntitlements", kelviqtest.Fault{Status: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	for _, customer := range []string{"cust_pro", "cust_free"} {
		if got := status(customer); got != http.StatusServiceUnavailable {
			t.Errorf("kelviq answering 503: %s got %d, want 503", customer, got)
		}
	}
	srv.ClearFaults()
	checker.Invalidate("cust_pro") // the pause after the failure ends
	checker.Invalidate("cust_free")
	for customer, want := range map[string]int{
		"cust_pro":  http.StatusOK,
		"cust_free": http.StatusForbidden, // (false, nil): the plan lacks it
	} {
		if got := status(customer); got != want {
			t.Errorf("%s got %d, want %d", customer, got, want)
		}
	}
	// kelviq refusing the key (401): its refusal, not "not in your plan".
	if err := srv.SetFault("getCustomerEntitlements", kelviqtest.Fault{Status: http.StatusUnauthorized}); err != nil {
		t.Fatal(err)
	}
	checker.Invalidate("cust_pro")
	if got := status("cust_pro"); got != http.StatusInternalServerError {
		t.Errorf("kelviq answering 401: got %d, want 500", got)
	}
}
