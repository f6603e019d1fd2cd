package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/kelviqtest"
)

// exampleSeed is the documented example seed.
const exampleSeed = "../../kelviqtest/testdata/seed.json"

// The partner key the tests send; it must never appear in a log.
const secretPartnerKey = "kvqp_secret_do_not_log_4711"

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// get sends GET path to base, with the partner key when key is not "".
func get(t *testing.T, base, path, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-Kelviq-Partner-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// checkPartnerRequests does what the README's curl lines do: a partner
// operation answers with the header and refuses without it.
func checkPartnerRequests(t *testing.T, base string) {
	t.Helper()
	status, body := get(t, base, "/partner/organizations/", secretPartnerKey)
	if status != 200 || !strings.Contains(body, `"organizationSlug":"acme-corp"`) {
		t.Errorf("with the partner key: %d %s", status, body)
	}
	status, body = get(t, base, "/partner/organizations/", "")
	if status != 401 || !strings.Contains(body, `"detail":"Authentication credentials were not provided`) {
		t.Errorf("without the partner key: %d %s", status, body)
	}
}

// checkLog checks one line per request, naming operation and status, and
// no key.
func checkLog(t *testing.T, log string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(log), "\n")
	var requests []string
	for _, l := range lines {
		if strings.Contains(l, " GET /partner/organizations/ ") {
			requests = append(requests, l)
		}
	}
	if len(requests) != 2 ||
		!strings.Contains(requests[0], "listPartnerOrganizations 200 ") || !strings.Contains(requests[0], "auth=partnerKeyAuth") ||
		!strings.Contains(requests[1], "listPartnerOrganizations 401 ") || !strings.Contains(requests[1], "auth=none: Authentication credentials were not provided") {
		t.Errorf("log lines:\n%s", log)
	}
	if strings.Contains(log, secretPartnerKey) || strings.Contains(log, "secret_do_not_log") {
		t.Errorf("the log contains the key:\n%s", log)
	}
}

// start runs the command's logic in-process; stop ends it as SIGINT or
// SIGTERM do (through signal.NotifyContext) and returns run's error.
func start(t *testing.T, args []string, stdout, stderr io.Writer) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, stdout, stderr, func(addr string) { addrc <- addr })
	}()
	stop = func() error {
		cancel()
		return <-done
	}
	select {
	case addr := <-addrc:
		return "http://" + addr, stop
	case err := <-done:
		cancel()
		t.Fatalf("run returned before serving: %v", err)
		return "", nil
	}
}

// TestRun runs the command's logic in-process on a free loopback port.
func TestRun(t *testing.T) {
	var stdout, stderr syncBuffer
	base, stop := start(t, []string{"-addr", "127.0.0.1:0", "-stateless"}, &stdout, &stderr)
	if first, _, _ := strings.Cut(stdout.String(), "\n"); !strings.HasSuffix(first, " at "+base) {
		t.Errorf("first line %q does not end with the URL %s", first, base)
	}
	checkPartnerRequests(t, base)
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.HasSuffix(stdout.String(), "kelviq-mock: stopped\n") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	checkLog(t, stderr.String())
}

func TestFlags(t *testing.T) {
	var stdout, stderr syncBuffer
	if err := run(context.Background(), []string{"-defects"}, &stdout, &stderr, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), `getCustomerEntitlements 200: example "allFeaturesExample" does not validate`) {
		t.Errorf("-defects:\n%s", stdout.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-server-key", "kvqp_not_a_server_key"}, "WithServerKeys"},
		{[]string{"-addr", "256.0.0.1:1"}, "256.0.0.1"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-stateless", "-seed", exampleSeed}, "-seed and -stateless exclude each other"},
		{[]string{"-seed", "no-such-file.json"}, "-seed: open no-such-file.json"},
		{[]string{"-seed", "testdata/bad-seed.json"}, `unknown top-level key "products"`},
		{[]string{"-fault", "listCustomers"}, "want operation=STATUS"},
		{[]string{"-fault", "listCustomers=abc"}, `"abc" is neither a status`},
		{[]string{"-fault", "noSuchOperation=503"}, `the spec has no operation "noSuchOperation"`},
		{[]string{"-fault", "ListCustomers=503"}, `did you mean "listCustomers"`},
		{[]string{"-fault", "listCustomers=503xx"}, "not a positive number"},
		{[]string{"-fault", "listCustomers=503,speed=2"}, `unknown setting "speed"`},
		{[]string{"-max-body", "0"}, "must be positive"},
		{[]string{"-read-timeout", "0s"}, "-read-timeout and -idle-timeout must be positive"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestExactKeys: -partner-key restricts the partner keys accepted.
func TestExactKeys(t *testing.T) {
	base, stop := start(t, []string{"-addr", "127.0.0.1:0", "-quiet", "-stateless", "-partner-key", secretPartnerKey}, io.Discard, io.Discard)
	if status, body := get(t, base, "/partner/organizations/", kelviqtest.PartnerKey); status != 401 {
		t.Errorf("another partner key: %d %s", status, body)
	}
	if status, body := get(t, base, "/partner/organizations/", secretPartnerKey); status != 200 {
		t.Errorf("the partner key: %d %s", status, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestBinary starts the built kelviq-mock with the example seed, does the
// partner requests, and stops it with SIGTERM: it must exit 0.
func TestBinary(t *testing.T) {
	p := startBinary(t, "-seed", exampleSeed)
	checkPartnerRequests(t, p.base)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(p.stdout)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if !strings.Contains(string(rest), "kelviq-mock: stateful, starting from "+exampleSeed+"\n") || !strings.HasSuffix(string(rest), "kelviq-mock: stopped\n") {
		t.Errorf("stdout after the first line:\n%s", rest)
	}
	checkLog(t, p.stderr.String())
	if p.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("exit code %d", p.cmd.ProcessState.ExitCode())
	}
}

// Regression: a request held by an injected delay held the stop: it
// waited shutdownTimeout, then failed ("stopping: context deadline
// exceeded", exit 1). Now the delay is cut short, the client sees the
// connection close (not an empty 200), the log says why, and run ends
// cleanly.
func TestStopDuringInjectedDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-fault", "listOrders=200,delay=1h"}, &stdout, &stderr, func(a string) { addrc <- a })
	}()
	addr := <-addrc
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /orders/ HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", addr, kelviqtest.ServerKey)
	time.Sleep(300 * time.Millisecond) // the request reaches the delay
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v, want a clean stop", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if answer, _ := io.ReadAll(conn); len(answer) > 0 {
		t.Errorf("the delayed request was answered %q, want the connection closed", answer)
	}
	if log := stderr.String(); !strings.Contains(log, "GET /orders/ listOrders --- ") || !strings.Contains(log, "an injected delay was cut short: kelviq-mock is stopping") {
		t.Errorf("log:\n%s", log)
	}
}

// Regressions for flag values that were accepted: a second fault for an
// operation replaced the first silently; a 1xx fault answered an empty
// 200; a -max-body near MaxInt64 made every request with a body panic. Run with an ended context, so that accepted flags end the run
// instead of serving.
func TestFlagRefusals(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-fault", "listCustomers=503x3", "-fault", "listCustomers=429"}, `listCustomers already has a fault`},
		{[]string{"-fault", "listCustomers=102"}, `status 102 is an interim (1xx) status`},
		// Regression: taken, then every request with a body panicked.
		{[]string{"-max-body", "9223372036854775807"}, `the limit is at most 1073741824 (1 GiB)`},
	} {
		err := run(ended, append([]string{"-addr", "127.0.0.1:0", "-quiet"}, tc.args...), io.Discard, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
