package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

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

// wantFakeOutput is what the walk-through prints against the stateful fake,
// line by line (regular expressions), after the first line. @ID@ is the
// quickstart's stamped id; what it reads back must be what it sent.
var wantFakeOutput = func() []string {
	const q = `quickstart-\d{8}-\d{6}`
	lines := []string{
		`^$`,
		`^1\. Provision a partner organization$`,
		`^   organization [0-9a-f-]{36} \(slug @ID@, external id @ID@\)$`,
		`^   its server and client keys came back in the response \(not printed\)$`,
		`^$`,
		`^2\. Look it up by external id$`,
		`^   external id @ID@ is organization [0-9a-f-]{36} \(slug @ID@\)$`,
		`^$`,
		`^3\. Create a customer$`,
		`^   sent   (@ID@) +(Quickstart \d{8}-\d{6}) +(customer\+\d{8}-\d{6}@example\.com)$`,
		`^   stored (@ID@) +(Quickstart \d{8}-\d{6}) +(customer\+\d{8}-\d{6}@example\.com)$`,
		`^$`,
		`^4\. List it back with the page iterator$`,
		`^   listed (@ID@) +(Quickstart \d{8}-\d{6}) +(customer\+\d{8}-\d{6}@example\.com)$`,
		`^$`,
		`^5\. Read the customer's entitlements$`,
		`^   customer @ID@:$`,
		`^     api-calls +METER +access=true usage 0 of 1000$`,
		`^     advanced-analytics +FLAG +access=true$`,
		`^$`,
		`^6\. Report usage and read the entitlement back$`,
		`^   sent \+1 api-calls for @ID@; recorded: DELTA 1 api-calls for @ID@ at \d{4}-\d\d-\d\d[ T]\S+$`,
		`^   read back: api-calls usage 1 of 1000$`,
		`^$`,
		`^7\. Create a checkout session$`,
		`^   plan pro-monthly, monthly, for @ID@: session (cs_\w+)$`,
		`^   pay at http://127\.0\.0\.1:\d+/\S*/(cs_\w+)/$`,
		`^$`,
		`^Done: all 7 steps succeeded\.$`,
	}
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, "@ID@", q)
	}
	return lines
}()

// checkReadBack checks that what the quickstart read back is what it sent:
// the stored and the listed customer are the one it created.
func checkReadBack(t *testing.T, out string) {
	t.Helper()
	sent := regexp.MustCompile(`(?m)^   sent   (.+)$`).FindStringSubmatch(out)
	if sent == nil {
		t.Fatalf("no sent line:\n%s", out)
	}
	for _, verb := range []string{"stored", "listed"} {
		got := regexp.MustCompile(`(?m)^   ` + verb + ` (.+)$`).FindStringSubmatch(out)
		if got == nil || strings.Join(strings.Fields(got[1]), " ") != strings.Join(strings.Fields(sent[1]), " ") {
			t.Errorf("%s %v, sent %q", verb, got, sent[1])
		}
	}
}

// fixClock stamps the quickstart's ids with a known time and returns the
// seed a fake needs for the customer it will create.
func fixClock(t *testing.T) []byte {
	t.Helper()
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
	seed, err := fakeSeed(customerIDFor(at.Format("20060102-150405")))
	if err != nil {
		t.Fatal(err)
	}
	return seed
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
	if !regexp.MustCompile(`^No KELVIQ_SANDBOX_SERVER_API_KEY in the environment: using kelviqtest, a fake kelviq that keeps state, started in this process at http://127\.0\.0\.1:\d+ and seeded with a plan for the customer created below\.$`).MatchString(first) {
		t.Errorf("first line: %q", first)
	}
	checkLines(t, rest, wantFakeOutput)
	checkReadBack(t, rest)
}

// With the sandbox variables set the quickstart configures the client with
// kelviq.FromEnv; KELVIQ_BASE_URL points it at a fake here, which checks
// that the keys from the environment are the ones sent.
func TestQuickstartFromEnv(t *testing.T) {
	clearEnv(t)
	const serverKey, partnerKey = "sk_sandbox_from_env", "kvqp_sandbox_from_env"
	seed := fixClock(t)
	srv := kelviqtest.NewServer(t, kelviqtest.WithSeed(bytes.NewReader(seed)), kelviqtest.WithServerKeys(serverKey), kelviqtest.WithPartnerKeys(partnerKey))
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
	checkReadBack(t, rest)

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
	seed := fixClock(t)
	srv := kelviqtest.NewServer(t, kelviqtest.WithSeed(bytes.NewReader(seed)), kelviqtest.WithResponse("reportUsage", 403, map[string]any{"detail": "Usage reporting is disabled."}))
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
	checkReadBack(t, rest)
}
