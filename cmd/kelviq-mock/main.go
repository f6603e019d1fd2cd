// Command kelviq-mock serves a fake kelviq API, driven by the OpenAPI spec
// the Go client is generated from: the same fake as package kelviqtest,
// as a standalone process, for tests in other languages or processes and
// for trying the client without an account.
//
//	go run ./cmd/kelviq-mock                  # http://127.0.0.1:12111
//	go run ./cmd/kelviq-mock -addr 127.0.0.1:0 # any free port
//
// Every operation of the spec is served under the spec's paths (an
// /api/v1 prefix is accepted too). The fake checks the credential each
// operation's security names, validates every request against the spec,
// and answers the spec's example for the success response (or a value
// synthesised from its schema). Point the client at it with
// KELVIQ_BASE_URL=http://127.0.0.1:12111 or kelviq.WithBaseURL.
//
// Server keys are sent as "Authorization: Bearer <key>" and may be any
// non-empty string not starting with kvqp_; partner keys are sent in
// X-Kelviq-Partner-Key and start with kvqp_. -server-key and -partner-key
// restrict the accepted keys to one each.
//
// The fake keeps state, as kelviqtest does by default: created customers
// are listed, usage reported changes the entitlements, provisioned
// organizations can be retrieved. -stateless answers the spec's examples
// whatever was sent before; -seed file.json starts from a fixture (see
// kelviqtest.WithSeed and kelviqtest/testdata/seed.json) and cannot be
// combined with -stateless.
//
// Faults make operations fail on demand: -fault listCustomers=503x3
// answers 503 to the next three listCustomers, -fault
// 'reportUsage=429,retryAfter=2s' answers 429 with Retry-After: 2 to every
// reportUsage, -fault getCustomerEntitlements=dropx1 drops the connection
// once, 'listOrders=200,delay=1s' answers after a second; the flag
// repeats (once per operation), and * names every operation. With -admin, faults can be
// changed while it runs:
//
//	curl -X POST localhost:12111/__kelviqtest/faults -d '{"operation":"listCustomers","status":503,"times":3}'
//	curl -X DELETE localhost:12111/__kelviqtest/faults   # clear every fault
//	curl -X POST localhost:12111/__kelviqtest/reset      # clear faults, state back to the seed
//
// The fault fields are those of kelviqtest.Fault in camelCase: operation,
// status, times, delay and retryAfter ("2s" or a number of seconds),
// dropConnection, header, body. The admin endpoint is off by default;
// kelviq-mock -h lists all of it.
//
// With -admin it also records the requests it receives, for another
// process to read:
//
//	curl localhost:12111/__kelviqtest/requests                          # all, oldest first
//	curl 'localhost:12111/__kelviqtest/requests?operationId=reportUsage' # one operation (repeatable)
//	curl -X DELETE localhost:12111/__kelviqtest/requests                # forget them
//	curl localhost:12111/__kelviqtest/stats                             # what it holds and dropped
//
// GET /__kelviqtest/requests answers {"requests": [...], "count",
// "recorded", "dropped", "maxRequests", "maxBytes", "requestBytes"}; each
// request is {"operationId", "method", "path", "query", "header",
// "bodyKind", "body", "credentials", "status", "problem", "durationMs"}
// (kelviqtest.Request's JSON): the body as the JSON it is when it is JSON
// (bodyKind "json"), else as a string ("text") or base64 ("base64");
// credential headers (Authorization, X-Kelviq-Partner-Key) are
// "[redacted]". An operationId the spec does not have is 400, naming it.
//
// It is bounded: request bodies over -max-body (1 MiB) are answered 413,
// a request must arrive within -read-timeout and its headers within 10s,
// and idle keep-alive connections close after -idle-timeout. Its state
// and recordings are bounded too (kelviqtest.Limits): at most
// -max-customers (10,000), -max-usage-pairs (100,000),
// -max-organizations and -max-checkout-sessions (10,000 each) and
// -max-state-bytes (32 MiB) of state, and -max-recorded (10,000) requests
// and -max-recorded-bytes (32 MiB) of recordings; past a limit the oldest
// go first, counted in GET /__kelviqtest/stats and in "dropped". So a
// long-running kelviq-mock holds at most about 64 MiB of state and
// recordings, plus 16 MiB of bodies being read, whatever it is sent. Its
// resident memory peaks higher, as Go's collector lets the heap grow to
// twice the live data: about 160 MB after a million requests with the
// default limits (BENCHMARKS.md); GOMEMLIMIT=100MiB keeps it near 110 MB
// at some CPU cost.
//
// It logs one line per request to stderr (method, path, operation,
// status, duration, which credentials came, and why a request was
// refused), never a credential's value, and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	kelviqgo "github.com/kelviq/kelviq-go"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// defaultAddr is where kelviq-mock listens unless -addr says otherwise.
const defaultAddr = "127.0.0.1:12111"

// The server's bounds: a request's headers must arrive within
// readHeaderTimeout, the whole request within -read-timeout; idle
// keep-alive connections close after -idle-timeout.
const (
	readHeaderTimeout  = 10 * time.Second
	defaultReadTimeout = 30 * time.Second
	defaultIdleTimeout = 60 * time.Second
	maxHeaderBytes     = 64 << 10
)

// shutdownTimeout bounds how long a stop waits for requests in flight.
const shutdownTimeout = 5 * time.Second

// errStopping ends the requests in flight when kelviq-mock stops: it cuts
// injected delays short (the log says so).
var errStopping = errors.New("kelviq-mock is stopping")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "kelviq-mock:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down. It prints the base URL as
// the first line on stdout and logs requests to stderr. ready, when not
// nil, is called with the listening address once requests are accepted.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("kelviq-mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defaultAddr, "`host:port` to listen on (port 0: any free port)")
	serverKey := fs.String("server-key", "", "accept only this server `key` (default: any non-empty key not starting with kvqp_)")
	partnerKey := fs.String("partner-key", "", "accept only this partner `key` (default: any key starting with kvqp_)")
	quiet := fs.Bool("quiet", false, "do not log requests")
	defects := fs.Bool("defects", false, "list the defects of the spec the fake works around, and exit")
	stateless := fs.Bool("stateless", false, "answer the spec's examples whatever was sent before (no state)")
	seed := fs.String("seed", "", "start the state from this JSON `file` (keys customers, entitlements, partnerOrganizations)")
	adminOn := fs.Bool("admin", false, "serve the admin endpoint under /__kelviqtest/ (listed below) and record requests for it")
	maxBody := fs.Int64("max-body", kelviqtest.DefaultMaxBodyBytes, "largest request body in `bytes` (at most 1 GiB); larger ones are answered 413")
	readTimeout := fs.Duration("read-timeout", defaultReadTimeout, "time allowed to read a whole request, body included")
	idleTimeout := fs.Duration("idle-timeout", defaultIdleTimeout, "time an idle keep-alive connection stays open")
	d := kelviqtest.DefaultLimits()
	maxCustomers := fs.Int("max-customers", d.Customers, "customers the state keeps; past it the oldest are dropped")
	maxUsagePairs := fs.Int("max-usage-pairs", d.UsagePairs, "(customer, feature) usages kept for features without a seeded entitlement")
	maxOrgs := fs.Int("max-organizations", d.Organizations, "partner organizations the state keeps")
	maxSessions := fs.Int("max-checkout-sessions", d.CheckoutSessions, "checkout sessions the state keeps")
	maxStateBytes := fs.Int64("max-state-bytes", d.StateBytes, "estimated memory of the state in `bytes`; past it the oldest objects of the largest kind are dropped")
	maxRecorded := fs.Int("max-recorded", d.Requests, "requests recorded for GET /__kelviqtest/requests (with -admin)")
	maxRecordedBytes := fs.Int64("max-recorded-bytes", d.RequestBytes, "estimated memory of the recorded requests in `bytes`")
	var faults []namedFault
	fs.Func("fault", "inject a fault, `operation=STATUS[xTIMES][,delay=D][,retryAfter=D]` or operation=drop[xTIMES] (repeatable, once per operation)", func(v string) error {
		nf, err := parseFaultFlag(v)
		if err != nil {
			return err
		}
		// An operation has one fault at a time: a second one would
		// replace the first silently, not follow it.
		for _, prev := range faults {
			if prev.operation == nf.operation {
				return fmt.Errorf("-fault %q: %s already has a fault; an operation has one at a time", v, nf.operation)
			}
		}
		faults = append(faults, nf)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kelviq-mock [flags]\n\nServes a fake kelviq API driven by the client's OpenAPI spec.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nAdmin endpoints (with -admin):\n%s", adminHelp())
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	if *stateless && *seed != "" {
		return errors.New("-seed and -stateless exclude each other: a seed is state")
	}
	if *readTimeout <= 0 || *idleTimeout <= 0 {
		return errors.New("-read-timeout and -idle-timeout must be positive")
	}
	limits := kelviqtest.Limits{
		Customers: *maxCustomers, UsagePairs: *maxUsagePairs, Organizations: *maxOrgs, CheckoutSessions: *maxSessions,
		StateBytes: *maxStateBytes, Requests: *maxRecorded, RequestBytes: *maxRecordedBytes,
	}
	if err := checkLimitFlags(limits); err != nil {
		return err
	}
	opts := []kelviqtest.Option{kelviqtest.WithMaxBodyBytes(*maxBody), kelviqtest.WithLimits(limits)}
	if !*adminOn {
		// Only the admin endpoint reads the recordings.
		opts = append(opts, kelviqtest.WithoutRecording())
	}
	if *stateless {
		opts = append(opts, kelviqtest.WithStateless())
	}
	if *seed != "" {
		f, err := os.Open(*seed)
		if err != nil {
			return fmt.Errorf("-seed: %w", err)
		}
		opts = append(opts, kelviqtest.WithSeed(f))
		defer f.Close()
	}
	for _, nf := range faults {
		opts = append(opts, kelviqtest.WithFault(nf.operation, nf.fault))
	}
	if *serverKey != "" {
		opts = append(opts, kelviqtest.WithServerKeys(*serverKey))
	}
	if *partnerKey != "" {
		opts = append(opts, kelviqtest.WithPartnerKeys(*partnerKey))
	}
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	logf := func(format string, args ...any) {
		if !*quiet {
			logger.Printf(format, args...)
		}
	}
	if !*quiet {
		opts = append(opts, kelviqtest.WithObserver(func(r kelviqtest.Request) { logger.Print(logLine(r)) }))
	}
	h, err := kelviqtest.NewHandler(opts...)
	if err != nil {
		return err
	}
	if *defects {
		for _, d := range h.SpecDefects() {
			fmt.Fprintln(stdout, d)
		}
		return nil
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var handler http.Handler = h
	if *adminOn {
		handler = withAdmin(h, logf)
	}
	// Requests live in a context that ends when the server stops, so
	// that a request held by an injected delay (-fault ...,delay=1h) does
	// not hold the stop for shutdownTimeout and make it fail.
	base, stopRequests := context.WithCancelCause(context.Background())
	defer stopRequests(nil)
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return base },
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       *readTimeout,
		IdleTimeout:       *idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(stderr, "kelviq-mock: ", log.LstdFlags),
	}
	fmt.Fprintf(stdout, "kelviq-mock: serving the kelviq API (%s) at http://%s\n", specVersion(), ln.Addr())
	fmt.Fprintf(stdout, "kelviq-mock: point the client at it with KELVIQ_BASE_URL=http://%s; stop with Ctrl-C\n", ln.Addr())
	mode := "stateful, starting empty"
	switch {
	case *stateless:
		mode = "stateless: every answer is the spec's example"
	case *seed != "":
		mode = "stateful, starting from " + *seed
	}
	if *adminOn {
		mode += fmt.Sprintf("; admin endpoint at http://%s%s{%s}", ln.Addr(), adminPrefix, strings.Join(adminNames(), ","))
	}
	fmt.Fprintf(stdout, "kelviq-mock: %s\n", mode)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopRequests(errStopping)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("stopping: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stdout, "kelviq-mock: stopped")
	return nil
}

// checkLimitFlags refuses a -max-* flag below 1, naming it: in Go a zero
// limit means the default, which a flag's 0 would silently become.
func checkLimitFlags(l kelviqtest.Limits) error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"-max-customers", int64(l.Customers)}, {"-max-usage-pairs", int64(l.UsagePairs)},
		{"-max-organizations", int64(l.Organizations)}, {"-max-checkout-sessions", int64(l.CheckoutSessions)},
		{"-max-state-bytes", l.StateBytes}, {"-max-recorded", int64(l.Requests)}, {"-max-recorded-bytes", l.RequestBytes},
	} {
		if f.v < 1 {
			return fmt.Errorf("%s %d: a limit is at least 1", f.name, f.v)
		}
	}
	return nil
}

// logLine is the log line of one request. It names the credentials a
// request carried by scheme, never by value.
//
// Path, query and problem are those of the request's JSON, where a key
// the client put there too (or a partner key) is redacted: the log is
// written where anyone may read it.
func logLine(r kelviqtest.Request) string {
	var b strings.Builder
	var red struct {
		Path    string     `json:"path"`
		Query   url.Values `json:"query"`
		Problem string     `json:"problem"`
	}
	r.Body = nil // not logged: no need to redact it
	if data, err := json.Marshal(r); err == nil && json.Unmarshal(data, &red) == nil {
		r.Path, r.Query, r.Problem = red.Path, red.Query, red.Problem
	} else {
		r.Path, r.Query, r.Problem = "[unloggable]", nil, ""
	}
	path := r.Path
	if len(r.Query) > 0 {
		path += "?" + r.Query.Encode()
	}
	op := r.OperationID
	if op == "" {
		op = "-"
	}
	creds := "none"
	if len(r.Credentials) > 0 {
		creds = strings.Join(r.Credentials, "+")
	}
	status := fmt.Sprint(r.Status)
	if r.Status == 0 {
		status = "---"
	}
	fmt.Fprintf(&b, "%s %s %s %s %s auth=%s", r.Method, path, op, status, r.Duration.Round(time.Microsecond), creds)
	if r.Problem != "" {
		fmt.Fprintf(&b, ": %s", r.Problem)
	}
	return b.String()
}

// specVersion names the vendored spec: repository, commit and date from
// OPENAPI_VERSION.
func specVersion() string {
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(kelviqgo.OpenAPIVersion))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	commit := fields["commit"]
	if len(commit) > 7 {
		commit = commit[:7]
	}
	if commit == "" {
		return "vendored spec"
	}
	return fmt.Sprintf("spec %s@%s, %s", fields["repository"], commit, fields["date"])
}
