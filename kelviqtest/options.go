package kelviqtest

import (
	"fmt"
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
// apply to every operation that has no fault of its own.
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
}

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
// operation's response, a delay before answering, or both.
type Fault struct {
	// Status is answered instead of the operation's response; 0 answers the
	// normal response (after Delay).
	Status int
	// Header is added to the fault's response, e.g. Retry-After.
	Header http.Header
	// Body is the fault's body, as Response.Body (nil: the spec's response
	// for Status if declared, else {"detail": "<status text>"}).
	Body any
	// Delay is waited before answering. It ends early when the request's
	// context ends (the client gave up), and then nothing is answered.
	Delay time.Duration
	// Times is how many requests the fault applies to, after which the
	// operation answers normally again; 0 means every request.
	Times int
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
// "listCustomers") answer status and body instead of the spec's success
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

// WithFault injects a fault into the operation with the given operationId,
// or into every operation with AnyOperation. Faults apply to requests that
// pass the credential and validation checks, so they never hide a bad
// request.
func WithFault(operationID string, f Fault) Option {
	return func(c *config) error {
		if f.Times < 0 || f.Delay < 0 {
			return fmt.Errorf("kelviqtest: WithFault(%q): negative Times or Delay", operationID)
		}
		if f.Status != 0 && (f.Status < 100 || f.Status > 999) {
			return fmt.Errorf("kelviqtest: WithFault(%q): status %d is not an HTTP status", operationID, f.Status)
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
// receives (Requests then returns none): for long-running processes.
func WithoutRecording() Option {
	return func(c *config) error {
		c.noRecording = true
		return nil
	}
}
