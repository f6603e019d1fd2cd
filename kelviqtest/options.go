package kelviqtest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Keys the fake accepts in every configuration that does not restrict keys
// with WithServerKeys or WithPartnerKeys. Any other well-formed key works
// too; these are here so tests need not invent one.
const (
	// ServerKey is a server API key for the bearerAuth operations
	// (kelviq.WithServerKey).
	ServerKey = "kelviqtest_server_key"
	// PartnerKey is a partner key for the partner operations
	// (kelviq.WithPartnerKey). Partner keys start with "kvqp_".
	PartnerKey = "kvqp_kelviqtest_partner_key"
)

// AnyOperation, given as the operation ID of WithFault, makes the fault
// apply to every operation that has no fault of its own (or whose own is
// used up).
const AnyOperation = "*"

// partnerKeyPrefix starts every kelviq partner key.
const partnerKeyPrefix = "kvqp_"

// Option configures a Handler (and so a Server).
type Option func(*config) error

// config is what the options build.
type config struct {
	serverKeys  map[string]bool // nil: any well-formed server key
	partnerKeys map[string]bool // nil: any well-formed partner key
	responses   map[string]func(*http.Request) Response
	faults      map[string]Fault
	observers   []func(Request)
	noRecording bool
	stateless   bool
	seed        []byte // the JSON of WithSeed; nil: an empty store
	maxBody     int64  // 0: DefaultMaxBodyBytes
	limits      Limits // zero fields: DefaultLimits
}

// DefaultMaxBodyBytes is the largest request body the fake reads unless
// WithMaxBodyBytes says otherwise (1 MiB): larger bodies are answered 413.
const DefaultMaxBodyBytes = 1 << 20

// Response is an answer chosen by the test instead of the spec's, for
// WithResponse and WithResponseFunc.
type Response struct {
	// Status is the HTTP status code; 0 means the operation's default
	// success status.
	Status int
	// Header is added to the response. A Content-Type set here wins.
	Header http.Header
	// Body is the response body: []byte, json.RawMessage or string are sent
	// as they are (as application/json unless Header says otherwise), any
	// other non-nil value is encoded as JSON. A nil Body means the spec's
	// response for Status (its example, or a value synthesised from its
	// schema) when the spec declares one, else {"detail": "<status text>"}
	// for a status of 400 and above, else no body. A Body of []byte{} sends
	// no body.
	Body any
}

// Fault is an injected failure: a status to answer instead of the
// operation's response, a delay before answering, a dropped connection,
// or a combination.
type Fault struct {
	// Status is answered instead of the operation's response; 0 answers the
	// normal response (after Delay). An interim status (1xx) is refused.
	Status int
	// Header is added to the fault's response, e.g. Retry-After. Names
	// and values must be valid HTTP; Content-Length and Transfer-Encoding
	// are refused (the fake writes them).
	Header http.Header
	// Body is the fault's body, as Response.Body (nil: the spec's response
	// for Status if declared, else {"detail": "<status text>"}).
	Body any
	// Delay is waited before answering. It ends early when the request's
	// context ends (the client gave up, or the server is stopping), and
	// then nothing is answered: the connection is closed.
	Delay time.Duration
	// Times is how many requests the fault applies to, after which the
	// operation answers normally again; 0 means every request.
	Times int
	// RetryAfter, when positive, is sent as the Retry-After header of the
	// fault's response, in whole seconds rounded up.
	RetryAfter time.Duration
	// DropConnection closes the connection after Delay instead of
	// answering, cut after the first bytes of a status line: the client
	// sees a transport error (a malformed or cut response), never a
	// status, even on a reused keep-alive connection (where a close before
	// any byte would be resent by the client's transport unseen). Status is
	// then ignored.
	DropConnection bool
}

// validate checks a fault given to WithFault or SetFault.
func (f Fault) validate(operationID string) error {
	if f.Times < 0 || f.Delay < 0 || f.RetryAfter < 0 {
		return fmt.Errorf("kelviqtest: fault of %q: negative Times, Delay or RetryAfter", operationID)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 999) {
		return fmt.Errorf("kelviqtest: fault of %q: status %d is not an HTTP status", operationID, f.Status)
	}
	// A 1xx is no answer: net/http sends it as an interim response and
	// then a 200 with no body, so the fault would look like a success.
	if f.Status >= 100 && f.Status < 200 {
		return fmt.Errorf("kelviqtest: fault of %q: status %d is an interim (1xx) status, not an answer", operationID, f.Status)
	}
	for name, values := range f.Header {
		if err := checkHeader(name, values); err != nil {
			return fmt.Errorf("kelviqtest: fault of %q: %w", operationID, err)
		}
	}
	return nil
}

// checkHeader checks a header a fault adds to its answer. net/http drops a
// header with an invalid name, and turns a line break in a value into a
// space, without telling anyone; Content-Length and Transfer-Encoding are
// the fake's to write (a wrong one leaves the client with a cut body:
// DropConnection is the fault for that).
func checkHeader(name string, values []string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return fmt.Errorf("header name %q is not a valid HTTP header name", name)
	}
	switch http.CanonicalHeaderKey(name) {
	case "Content-Length", "Transfer-Encoding":
		return fmt.Errorf("header %s is set by the fake, not by a fault", http.CanonicalHeaderKey(name))
	}
	for _, v := range values {
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("header %s: a value holds a line break or NUL", name)
		}
	}
	return nil
}

// isTokenChar reports whether r may appear in an HTTP header name (a
// token of RFC 9110).
func isTokenChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// WithServerKeys makes the fake accept only these server keys (sent as
// "Authorization: Bearer <key>"). Without it any well-formed server key is
// accepted: non-empty and not a partner key.
func WithServerKeys(keys ...string) Option {
	return func(c *config) error {
		if c.serverKeys == nil {
			c.serverKeys = map[string]bool{}
		}
		for _, k := range keys {
			if k == "" || strings.HasPrefix(k, partnerKeyPrefix) {
				return fmt.Errorf("kelviqtest: WithServerKeys: a server key is non-empty and does not start with %q", partnerKeyPrefix)
			}
			c.serverKeys[k] = true
		}
		return nil
	}
}

// WithPartnerKeys makes the fake accept only these partner keys (sent in
// the X-Kelviq-Partner-Key header). Without it any key starting with
// "kvqp_" is accepted.
func WithPartnerKeys(keys ...string) Option {
	return func(c *config) error {
		if c.partnerKeys == nil {
			c.partnerKeys = map[string]bool{}
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, partnerKeyPrefix) || len(k) == len(partnerKeyPrefix) {
				return fmt.Errorf("kelviqtest: WithPartnerKeys: a partner key starts with %q", partnerKeyPrefix)
			}
			c.partnerKeys[k] = true
		}
		return nil
	}
}

// WithResponse makes the operation with the given operationId (e.g.
// "listCustomers", spelled as the spec does) answer status and body instead of the spec's success
// response, once its request has passed the credential and validation
// checks. See Response.Body for what body may be. The response is not
// checked against the spec: tests use this to simulate errors and edge
// cases.
func WithResponse(operationID string, status int, body any) Option {
	r := Response{Status: status, Body: body}
	return WithResponseFunc(operationID, func(*http.Request) Response { return r })
}

// WithResponseFunc is WithResponse with the answer computed per request,
// e.g. from the "page" query parameter. f runs after the credential and
// validation checks, may run concurrently, and may read the request body.
func WithResponseFunc(operationID string, f func(*http.Request) Response) Option {
	return func(c *config) error {
		if f == nil {
			return fmt.Errorf("kelviqtest: WithResponseFunc(%q): nil function", operationID)
		}
		if c.responses == nil {
			c.responses = map[string]func(*http.Request) Response{}
		}
		c.responses[operationID] = f
		return nil
	}
}

// WithFault injects a fault into the operation with the given operationId
// (spelled as the spec does, e.g. "listCustomers"; the constants of package
// api such as api.OpListCustomers fit), or into every operation with
// AnyOperation. Faults apply to requests that pass the credential and
// validation checks, so they never hide a bad request. Handler.SetFault
// changes them while the fake runs.
func WithFault(operationID string, f Fault) Option {
	return func(c *config) error {
		if err := f.validate(operationID); err != nil {
			return err
		}
		if c.faults == nil {
			c.faults = map[string]Fault{}
		}
		c.faults[operationID] = f
		return nil
	}
}

// WithObserver calls f with every request once it has been answered, in
// the goroutine that served it (so f must be safe for concurrent use).
// cmd/kelviq-mock logs with it.
func WithObserver(f func(Request)) Option {
	return func(c *config) error {
		if f != nil {
			c.observers = append(c.observers, f)
		}
		return nil
	}
}

// WithoutRecording stops the handler from keeping the requests it
// receives (Requests then returns none), e.g. for a long-running process
// nobody reads them from. Recording is bounded either way (Limits).
func WithoutRecording() Option {
	return func(c *config) error {
		c.noRecording = true
		return nil
	}
}

// WithStateless makes the fake forget: every operation answers the spec's
// example (or a value synthesised from its schema) whatever was sent
// before, as kelviqtest did before it kept state. It cannot be combined
// with WithSeed.
func WithStateless() Option {
	return func(c *config) error {
		c.stateless = true
		return nil
	}
}

// WithSeed fills the fake's state from a JSON fixture before the first
// request, and again on Handler.Reset. Its top-level keys are "customers"
// (objects shaped like the spec's CustomerResponse), "entitlements" (the
// spec's EntitlementDetail plus "customerId") and "partnerOrganizations"
// (the spec's PartnerOrganization); each is optional, any other key is an
// error naming it. Every item is checked against the spec's schema.
// ExampleSeed is a documented example. The reader is read once, when the
// option is applied.
func WithSeed(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return errors.New("kelviqtest: WithSeed: nil reader")
		}
		data, err := io.ReadAll(io.LimitReader(r, maxSeedBytes+1))
		if err != nil {
			return fmt.Errorf("kelviqtest: WithSeed: reading the seed: %w", err)
		}
		if len(data) > maxSeedBytes {
			return fmt.Errorf("kelviqtest: WithSeed: the seed is larger than %d bytes", maxSeedBytes)
		}
		c.seed = data
		return nil
	}
}

// maxBodyLimit is the largest limit WithMaxBodyBytes takes (1 GiB):
// bodies are held in memory whole.
const maxBodyLimit = 1 << 30

// maxSeedBytes bounds a seed fixture.
const maxSeedBytes = 64 << 20

// WithMaxBodyBytes sets the largest request body the fake reads (default
// DefaultMaxBodyBytes, 1 MiB). A larger body is answered 413 with a JSON
// error, without reading the rest of it. The bodies being read at once
// share a budget of 16 MiB, or of one body of this size when it is larger.
// n is at most 1 GiB.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("kelviqtest: WithMaxBodyBytes(%d): the limit must be positive", n)
		}
		// Bodies are held in memory whole; and a limit near MaxInt64
		// overflowed the arithmetic of reading one (every request with a
		// body panicked).
		if n > maxBodyLimit {
			return fmt.Errorf("kelviqtest: WithMaxBodyBytes(%d): the limit is at most %d (1 GiB)", n, int64(maxBodyLimit))
		}
		c.maxBody = n
		return nil
	}
}
