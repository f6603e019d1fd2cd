package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/kelviqtest"
)

// clearEnv unsets every variable the quickstart and kelviq.FromEnv read,
// so a developer's keys never reach a test (and no test calls the network).
func clearEnv(t *testing.T) {
	for _, name := range []string{
		"KELVIQ_SANDBOX_SERVER_API_KEY", "KELVIQ_SERVER_API_KEY", "KELVIQ_PARTNER_KEY",
		"KELVIQ_BASE_URL", "KELVIQ_EDGE_URL", "KELVIQ_ENV",
	} {
		t.Setenv(name, "")
	}
}

// wantFakeOutput is what the walk-through prints against the fake, line by
// line (regular expressions), after the first line.
var wantFakeOutput = []string{
	`^$`,
	`^1\. Provision a partner organization$`,
	`^   organization 8e1d7b1a-6c4d-4e3a-9b2d-3f6e4c2b1ad0 \(slug acme-corp, external id acme-corp\)$`,
	`^   its server and client keys came back in the response \(not printed\)$`,
	`^$`,
	`^2\. Look it up by external id$`,
	`^   external id quickstart-\d{8}-\d{6} is organization 8e1d7b1a-6c4d-4e3a-9b2d-3f6e4c2b1ad0 \(slug acme-corp\)$`,
	`^$`,
	`^3\. Create a customer$`,
	`^   sent   quickstart-\d{8}-\d{6} +Quickstart \d{8}-\d{6} +customer\+\d{8}-\d{6}@example\.com$`,
	`^   stored \S+ +.+ +\S+@\S+$`, // what the fake answers (not compared: it may not store)
	`^$`,
	`^4\. List it back with the page iterator$`,
	`^   (listed \S+ +.+ +\S+|no customer matches "\S+")$`,
	`^$`,
	`^5\. Read the customer's entitlements$`,
	`^   customer cust_456:$`,
	`^     advanced-analytics +METER +access=true usage 0 of 3$`,
	`^$`,
	`^6\. Report usage and read the entitlement back$`,
	`^   sent \+1 advanced-analytics for unique-customer-id-123; recorded: SET 150 seats for customer_001 at 2025-05-22 08:27:45\.430732$`,
	`^   read back: advanced-analytics usage \d+ of \d+$`,
	`^$`,
	`^7\. Create a checkout session$`,
	`^   plan pro-monthly, monthly, for unique-customer-id-123: session cs_eeCGdGayc5oTMdGNV5XocfRk6o87K0vlwwCuKeiE7BLU9$`,
	`^   pay at https://kelviq\.com/checkout/cs_eeCGdGayc5oTMdGNV5XocfRk6o87K0vlwwCuKeiE7BLU9/$`,
	`^$`,
	`^Done: all 7 steps succeeded\.$`,
}

func checkLines(t *testing.T, got string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d lines, want %d:\n%s", len(lines), len(want), got)
	}
	for i := range min(len(lines), len(want)) {
		if !regexp.MustCompile(want[i]).MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %s", i+1, lines[i], want[i])
		}
	}
}

// With no key in the environment the quickstart runs against the
// in-process fake, says so first, and gets to the end: what `make demo`
// does on a fresh clone.
func TestQuickstartWithoutKeys(t *testing.T) {
	clearEnv(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	first, rest, _ := strings.Cut(out.String(), "\n")
	if !regexp.MustCompile(`^No KELVIQ_SANDBOX_SERVER_API_KEY in the environment: using kelviqtest, a fake kelviq started in this process at http://127\.0\.0\.1:\d+; its answers are the API spec's examples\.$`).MatchString(first) {
		t.Errorf("first line: %q", first)
	}
	checkLines(t, rest, wantFakeOutput)
}

// With the sandbox variables set the quickstart configures the client with
// kelviq.FromEnv; KELVIQ_BASE_URL points it at a fake here, which checks
// that the keys from the environment are the ones sent.
func TestQuickstartFromEnv(t *testing.T) {
	clearEnv(t)
	const serverKey, partnerKey = "sk_sandbox_from_env", "kvqp_sandbox_from_env"
	srv := kelviqtest.NewServer(t, kelviqtest.WithServerKeys(serverKey), kelviqtest.WithPartnerKeys(partnerKey))
	t.Setenv("KELVIQ_SANDBOX_SERVER_API_KEY", serverKey)
	t.Setenv("KELVIQ_PARTNER_KEY", partnerKey)
	t.Setenv("KELVIQ_BASE_URL", srv.URL)
	t.Setenv("KELVIQ_ENV", "production") // ignored: the quickstart never calls production

	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	first, rest, _ := strings.Cut(out.String(), "\n")
	if want := "Using " + srv.URL + " (KELVIQ_BASE_URL) with KELVIQ_SANDBOX_SERVER_API_KEY and KELVIQ_PARTNER_KEY from the environment."; first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	checkLines(t, rest, wantFakeOutput)

	var ops []string
	for _, r := range srv.Requests() {
		if r.Status >= 300 {
			t.Errorf("%s answered %d: %s", r.OperationID, r.Status, r.Problem)
		}
		ops = append(ops, r.OperationID)
	}
	want := "provisionPartnerOrganization retrievePartnerOrganizationByExternalId createCustomer listCustomers getCustomerEntitlements reportUsage getCustomerEntitlements listCatalogPlans createCheckoutSession"
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("operations called:\n%s\nwant\n%s", got, want)
	}
}

// Without a partner key the partner steps are skipped, not failed; a step
// that fails makes the run fail after the others ran.
func TestQuickstartSkipsAndFailures(t *testing.T) {
	clearEnv(t)
	srv := kelviqtest.NewServer(t, kelviqtest.WithResponse("reportUsage", 403, map[string]any{"detail": "Usage reporting is disabled."}))
	t.Setenv("KELVIQ_SANDBOX_SERVER_API_KEY", kelviqtest.ServerKey)
	t.Setenv("KELVIQ_BASE_URL", srv.URL)

	var out bytes.Buffer
	err := run(context.Background(), &out)
	if err == nil || err.Error() != "1 of 7 steps failed" {
		t.Fatalf("run: %v, want 1 of 7 steps failed", err)
	}
	got := out.String()
	for _, want := range []string{
		"with KELVIQ_SANDBOX_SERVER_API_KEY from the environment.\n",
		"1. Provision a partner organization\n   skipped: set KELVIQ_PARTNER_KEY",
		"2. Look it up by external id\n   skipped: no organization was provisioned\n",
		"6. Report usage and read the entitlement back\n   failed: ",
		"Usage reporting is disabled.",
		"7. Create a checkout session\n   plan pro-monthly",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Done:") {
		t.Errorf("a failed run says done:\n%s", got)
	}
}

// TestGoRun runs `go run ./examples/quickstart` as `make demo` does, with
// no KELVIQ variable and with the module proxy off (no network): it must
// exit 0 and print the walk-through.
func TestGoRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command(gobin, "run", ".")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KELVIQ_") && !strings.HasPrefix(kv, "GOPROXY=") && !strings.HasPrefix(kv, "GOFLAGS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GOPROXY=off", "GOFLAGS=-mod=readonly -buildvcs=false")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	first, rest, _ := strings.Cut(stdout.String(), "\n")
	if !strings.HasPrefix(first, "No KELVIQ_SANDBOX_SERVER_API_KEY in the environment: using kelviqtest") {
		t.Errorf("first line %q", first)
	}
	checkLines(t, rest, wantFakeOutput)
}
