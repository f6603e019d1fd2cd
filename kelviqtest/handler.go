package kelviqtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"golang.org/x/sync/semaphore"
)

// Handler is the fake kelviq API as an http.Handler. Make one with
// NewHandler; it is safe for concurrent use.
//
// For each request it finds the operation of the vendored spec (the spec
// path appended to the server's URL, as kelviq.WithBaseURL sends it; an
// "/api/v1" prefix is accepted too), checks the credential the way the
// operation's security says, validates the request against the spec
// (path, query, headers, body), and answers the operation's documented
// success response: the spec's example or, where it has none, a value
// synthesised from the schema. Every answer validates against the spec.
//
// Refusals use kelviq's error shapes: 404 {"detail": …} for a path of no
// operation, 405 for a method the path does not have, 401 {"detail": …}
// for a missing, malformed or wrong-kind credential, and 400 naming the
// invalid field, as {"error": …, "<field>": ["…"]} (or in the shape of the
// operation's documented 400 response).
type Handler struct {
	spec       *spec
	validate   *openapi3filter.Options
	serverKey  map[string]bool // nil: any well-formed key
	partner    map[string]bool // nil: any well-formed key
	responses  map[*operation]func(*http.Request) Response
	observers  []func(Request)
	record     bool
	maxBody    int64
	budget     *semaphore.Weighted // units of body memory, see readBody
	budgetSize int64               // how many units budget has
	budgetWait time.Duration
	state      *store // nil: stateless

	faultMu  sync.Mutex
	faults   map[*operation]*faultState
	anyFault *faultState

	limits Limits // defaults filled in

	mu              sync.Mutex
	requests        fifo[Request] // bounded by limits.Requests and RequestBytes
	droppedRequests int           // since the start or the last ClearRequests
}

// Request is a request the fake received, as recorded by the Handler and
// given to observers.
type Request struct {
	// OperationID is the spec's operationId of the request's operation, ""
	// when the request matched none.
	OperationID string
	// Method and Path are the request's, Path escaped and without the query.
	Method string
	Path   string
	// Query is the parsed query string.
	Query url.Values
	// Header is a copy of the request's headers, credentials included:
	// never log it (the Request's JSON redacts them).
	Header http.Header
	// Body is the request body as received.
	Body []byte
	// Credentials names the security schemes of the spec the request
	// carried a credential for ("bearerAuth", "partnerKeyAuth"), whether or
	// not it was accepted. It never holds a key.
	Credentials []string
	// Status is the status code the fake answered; 0 when it answered
	// nothing (the client gave up during an injected delay).
	Status int
	// Problem says why the fake refused the request (the message of its
	// 400, 401, 404, 405 or 413), "" when it did not.
	Problem string
	// Duration is how long the fake took to answer, injected delays included.
	Duration time.Duration
}

// filesPath is where the fake serves the files its redirects point to
// (downloadCatalogPlanFile answers 302 to a signed URL on storage).
const filesPath = "/_kelviqtest/files"

// NewHandler returns the fake kelviq API as an http.Handler, for servers
// that have no testing.TB (cmd/kelviq-mock, examples, other processes):
// serve it with httptest.NewServer or an http.Server. In tests, NewServer
// is shorter. The spec is loaded and every response precomputed once per
// process; a Handler only adds its options.
func NewHandler(opts ...Option) (*Handler, error) {
	s, err := loadSpec()
	if err != nil {
		return nil, err
	}
	var cfg config
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	h := &Handler{
		spec: s,
		validate: &openapi3filter.Options{
			// The request is checked, never changed: no defaults written
			// into it.
			SkipSettingDefaults:     true,
			SchemaValidationOptions: s.formats,
		},
		serverKey:  cfg.serverKeys,
		partner:    cfg.partnerKeys,
		responses:  map[*operation]func(*http.Request) Response{},
		faults:     map[*operation]*faultState{},
		observers:  cfg.observers,
		record:     !cfg.noRecording,
		maxBody:    cmp.Or(cfg.maxBody, DefaultMaxBodyBytes),
		budgetWait: budgetWait,
		limits:     cfg.limits.withDefaults(),
	}
	// Room for at least one body of the largest size, however large
	// WithMaxBodyBytes makes it: a body the budget could never hold would
	// wait and be answered 503 on an idle fake.
	h.budgetSize = max(bodyBudget/bodyUnit, budgetUnits(h.maxBody+1))
	h.budget = semaphore.NewWeighted(h.budgetSize)
	if cfg.stateless && cfg.seed != nil {
		return nil, errors.New("kelviqtest: WithSeed and WithStateless exclude each other: a seed is state")
	}
	if !cfg.stateless {
		var seed *seedData
		if cfg.seed != nil {
			if seed, err = s.parseSeed(cfg.seed); err != nil {
				return nil, err
			}
		}
		h.state = newStore(seed, h.limits)
		if err := checkSeedFits(h.state, h.limits); err != nil {
			return nil, err
		}
	}
	for id, f := range cfg.responses {
		op, err := s.operation(id, "WithResponse")
		if err != nil {
			return nil, err
		}
		h.responses[op] = f
	}
	for id, f := range cfg.faults {
		if id == AnyOperation {
			h.anyFault = &faultState{Fault: f}
			continue
		}
		op, err := s.operation(id, "WithFault")
		if err != nil {
			return nil, err
		}
		h.faults[op] = &faultState{Fault: f}
	}
	return h, nil
}

// operation returns the operation with the given operationId, or an error
// naming the option that asked for an unknown one.
func (s *spec) operation(id, option string) (*operation, error) {
	if op := s.byID[id]; op != nil {
		return op, nil
	}
	for _, op := range s.ops {
		if strings.EqualFold(op.id, id) {
			return nil, fmt.Errorf("kelviqtest: %s: the spec has no operation %q; did you mean %q? (operation IDs are spelled as the spec's operationId)", option, id, op.id)
		}
	}
	return nil, fmt.Errorf("kelviqtest: %s: the spec has no operation %q (operation IDs are the spec's operationId, e.g. %q)", option, id, s.ops[0].id)
}

// Requests returns the requests received so far, oldest first: the last
// Limits.Requests of them at most (10,000 by default) and at most
// Limits.RequestBytes of them (32 MiB); Stats().Dropped.Requests counts
// those dropped to stay within. They are copies, maps and slices
// included: a caller may change them without changing what the fake
// recorded. With WithoutRecording there are none.
func (h *Handler) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Request, h.requests.len())
	for i := range out {
		out[i] = h.requests.at(i).clone()
	}
	return out
}

// ClearRequests forgets the recorded requests, and the count of those
// dropped, so that a test can look at what follows alone. It returns how
// many it forgot.
func (h *Handler) ClearRequests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.requests.len()
	h.requests.clear()
	h.droppedRequests = 0
	return n
}

// keep records a request within the limits, dropping the oldest ones.
func (h *Handler) keep(r Request) {
	// A chunked body's buffer may have twice the room it needs: keep only
	// what it holds.
	if cap(r.Body)-len(r.Body) > 4<<10 {
		r.Body = bytes.Clone(r.Body)
	}
	size := requestSize(&r)
	h.mu.Lock()
	defer h.mu.Unlock()
	if size > h.limits.RequestBytes {
		h.droppedRequests++ // alone over the limit: not kept at all
		return
	}
	h.requests.push(r, size)
	for h.requests.len() > h.limits.Requests || h.requests.bytes > h.limits.RequestBytes {
		h.requests.pop()
		h.droppedRequests++
	}
}

// clone is a deep copy of r.
func (r Request) clone() Request {
	r.Query = url.Values(http.Header(r.Query).Clone())
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	r.Credentials = slices.Clone(r.Credentials)
	return r
}

// Reset puts the fake back to how it started: the state back to the seed
// (empty without one), and no fault, those given with WithFault included.
// Recorded requests are kept.
func (h *Handler) Reset() {
	h.ClearFaults()
	if h.state != nil {
		h.state.reset()
	}
}

// Stateful reports whether the fake keeps state (the default; not with
// WithStateless).
func (h *Handler) Stateful() bool { return h.state != nil }

// SpecDefects lists the defects the fake found in the vendored spec, one
// line each: documented examples that do not validate against their schema
// (the fake serves another example or a synthesised value instead), or
// that carry properties their schema does not declare; bodies declared on
// responses that cannot have one (the fake sends none); JSON bodies
// declared without a schema.
func (h *Handler) SpecDefects() []string {
	return slices.Clone(h.spec.defects)
}

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := Request{Method: r.Method, Path: r.URL.EscapedPath()}
	rw := &statusWriter{ResponseWriter: w}
	var body []byte
	var drop net.Conn // a connection a fault drops, closed once recorded
	// Deferred, so that a request whose connection a fault drops (by a
	// panic, where it cannot be hijacked) is recorded too.
	defer func() {
		h.finish(&rec, r, body, rw, start)
		if drop != nil {
			drop.Close()
		}
	}()

	if r.Body != nil && r.Body != http.NoBody {
		var problem string
		var release func()
		body, release, problem = h.readBody(rw, r)
		defer release()
		if problem != "" {
			rec.Problem = problem
			return
		}
	}
	drop = h.serve(rw, r, body, &rec)
}

// finish records the request and tells the observers.
func (h *Handler) finish(rec *Request, r *http.Request, body []byte, rw *statusWriter, start time.Time) {
	if !h.record && len(h.observers) == 0 {
		return
	}
	rec.Status = rw.status
	if rec.Status == 0 && rec.Problem == "" {
		rec.Status = http.StatusOK // net/http's answer when the handler wrote nothing
	}
	rec.Duration = time.Since(start)
	rec.Query = r.URL.Query()
	rec.Header = r.Header.Clone()
	rec.Body = body
	rec.Credentials = h.carried(r)
	if h.record {
		// Query, Header and Body are the request's own copies; another
		// copy only when an observer gets them too, as it may change its
		// own (e.g. redact a header).
		kept := *rec
		if len(h.observers) > 0 {
			kept = rec.clone()
		}
		h.keep(kept)
	}
	for i, f := range h.observers {
		if i < len(h.observers)-1 {
			f(rec.clone())
		} else {
			f(*rec)
		}
	}
}

// serve answers a request whose body has been read. It returns the
// connection an injected fault drops, for the caller to close.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, body []byte, rec *Request) (drop net.Conn) {
	path := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(path, "/api/v1"); ok && strings.HasPrefix(rest, "/") {
		path = rest
	}
	if rest, ok := strings.CutPrefix(path, filesPath+"/"); ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		serveFile(w, rest)
		return
	}

	op, params, known := h.spec.router.find(r.Method, path)
	if op == nil {
		if known {
			rec.Problem = fmt.Sprintf("method %s is not allowed on %s", r.Method, path)
			w.Header().Set("Allow", strings.Join(h.spec.router.methods(path), ", "))
			writeJSON(w, http.StatusMethodNotAllowed, nil, map[string]any{"detail": fmt.Sprintf("Method %q not allowed.", r.Method)})
			return
		}
		rec.Problem = "no operation of the spec has the path " + path
		writeJSON(w, http.StatusNotFound, nil, map[string]any{"detail": "Not found."})
		return
	}
	rec.OperationID = op.id

	if problem, bearer := h.checkCredentials(op, r); problem != "" {
		rec.Problem = problem
		hdr := http.Header{}
		if bearer {
			hdr.Set("WWW-Authenticate", `Bearer realm="kelviq"`)
		}
		writeJSON(w, http.StatusUnauthorized, hdr, map[string]any{"detail": problem})
		return
	}

	// Validation reads the body again; so may a WithResponseFunc.
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	input := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: &op.route, Options: h.validate}
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		field, reason := requestErrorField(err)
		rec.Problem = field + ": " + reason
		writeJSON(w, http.StatusBadRequest, nil, badRequestBody(op.badRequest, field, reason))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	if f, ok := h.faultFor(op); ok {
		if done, conn := h.applyFault(w, r, op, f, rec); done {
			return conn
		}
	}
	if f := h.responses[op]; f != nil {
		h.writeResponse(w, r, op, f(r))
		return
	}
	if h.state != nil {
		if f := statefulOps[op.id]; f != nil {
			h.serveState(w, r, f, params, body, rec)
			return
		}
	}
	writeCanned(w, r, op.success, nil)
	return nil
}

// carried names the security schemes the request carries a credential for.
func (h *Handler) carried(r *http.Request) []string {
	var out []string
	for _, sc := range h.spec.schemes() {
		if has(r, sc) {
			out = append(out, sc.name)
		}
	}
	return out
}

// schemes lists the spec's security schemes, by name.
func (s *spec) schemes() []scheme {
	return s.allSchemes
}

// has reports whether the request carries a credential of the scheme.
func has(r *http.Request, sc scheme) bool {
	if sc.bearer {
		return len(r.Header.Values("Authorization")) > 0
	}
	return len(r.Header.Values(sc.header)) > 0
}

// describe names a scheme's credential for messages.
func (sc scheme) describe() string {
	if sc.bearer {
		return "a server key (Authorization: Bearer <key>)"
	}
	return "a partner key (" + sc.header + " header)"
}

// checkCredentials checks the request's credentials against the
// operation's security. It returns why they are refused ("" when they are
// not) and whether the operation takes a bearer token. Messages never
// contain a key.
func (h *Handler) checkCredentials(op *operation, r *http.Request) (problem string, bearer bool) {
	for _, sc := range op.security {
		bearer = bearer || sc.bearer
	}
	// A credential the operation does not name is refused: a client must
	// not send a key where it is not needed.
	for _, sc := range h.spec.schemes() {
		if has(r, sc) && !slices.ContainsFunc(op.security, func(x scheme) bool { return x.name == sc.name }) {
			if len(op.security) == 0 {
				return fmt.Sprintf("This operation takes no credential, and the request carried %s.", sc.describe()), bearer
			}
			return fmt.Sprintf("This operation takes %s, not %s.", describeAll(op.security), sc.describe()), bearer
		}
	}
	if len(op.security) == 0 {
		return "", bearer
	}
	var bad string
	for _, sc := range op.security {
		if !has(r, sc) {
			continue
		}
		if p := h.checkKey(r, sc); p != "" {
			bad = p
			continue
		}
		return "", bearer
	}
	if bad != "" {
		return bad, bearer
	}
	return fmt.Sprintf("Authentication credentials were not provided: this operation takes %s.", describeAll(op.security)), bearer
}

// checkKey checks the credential of one scheme the request carries.
func (h *Handler) checkKey(r *http.Request, sc scheme) string {
	if sc.bearer {
		values := r.Header.Values("Authorization")
		if len(values) != 1 {
			return "The request has more than one Authorization header."
		}
		kind, key, ok := strings.Cut(values[0], " ")
		if !ok || !strings.EqualFold(kind, "Bearer") {
			return "The Authorization header is not of the form \"Bearer <key>\"."
		}
		switch {
		case key == "" || strings.ContainsAny(key, " \t"):
			return "The Authorization header is not of the form \"Bearer <key>\"."
		case strings.HasPrefix(key, partnerKeyPrefix):
			return "The Authorization header carries a partner key (" + partnerKeyPrefix + "…); this operation takes a server key."
		case h.serverKey != nil && !h.serverKey[key]:
			return "Invalid server key."
		}
		return ""
	}
	values := r.Header.Values(sc.header)
	if len(values) != 1 {
		return "The request has more than one " + sc.header + " header."
	}
	key := values[0]
	switch {
	case !strings.HasPrefix(key, partnerKeyPrefix) || len(key) == len(partnerKeyPrefix):
		return "The " + sc.header + " header does not carry a partner key (they start with " + partnerKeyPrefix + ")."
	case h.partner != nil && !h.partner[key]:
		return "Invalid partner key."
	}
	return ""
}

func describeAll(schemes []scheme) string {
	parts := make([]string, len(schemes))
	for i, sc := range schemes {
		parts[i] = sc.describe()
	}
	return strings.Join(parts, " or ")
}

// requestErrorField names the invalid part of a request (a parameter name,
// a dotted path into the body, "body" or "Content-Type") and why.
func requestErrorField(err error) (field, reason string) {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return "request", oneLine(err.Error())
	}
	reason = oneLine(re.Error())
	var se *openapi3.SchemaError
	var pe *openapi3filter.ParseError
	switch {
	case errors.As(re.Err, &se):
		field, reason = schemaErrorField(se)
	case errors.As(re.Err, &pe) && pe.Reason != "":
		reason = pe.Reason
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		reason = "This field is required."
	case re.Err != nil && re.Reason == "":
		reason = oneLine(re.Err.Error())
	case re.Reason != "":
		reason = oneLine(re.Reason)
	}
	switch {
	case re.Parameter != nil:
		return re.Parameter.Name, reason
	case re.RequestBody != nil && strings.HasPrefix(re.Reason, "header Content-Type"):
		return "Content-Type", reason
	case re.RequestBody != nil && errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return "body", "A request body is required."
	case re.RequestBody != nil:
		if field == "" {
			field = "body"
		}
		return field, reason
	}
	return "request", reason
}

// schemaErrorField is the dotted JSON path of a schema error ("" for the
// root) and its reason, which kin-openapi keeps free of the invalid value.
func schemaErrorField(err error) (field, reason string) {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return "", oneLine(err.Error())
	}
	reason = oneLine(se.Reason)
	if reason == "" {
		reason = oneLine(se.Error())
	}
	return strings.Join(se.JSONPointer(), "."), reason
}

// badRequestBody is a 400 body naming the invalid field, in the shape of
// the operation's documented 400 response.
func badRequestBody(shape errorShape, field, reason string) map[string]any {
	msg := "Invalid request: " + field + ": " + reason
	switch shape {
	case shapeDetail:
		return map[string]any{"detail": msg}
	case shapeStatusMessage:
		return map[string]any{"status": "Bad request", "message": msg}
	}
	out := map[string]any{"error": msg}
	if field != "error" {
		out[field] = []string{reason}
	}
	return out
}

// writeResponse writes a response chosen by the test (WithResponse,
// WithResponseFunc or a Fault).
func (h *Handler) writeResponse(w http.ResponseWriter, r *http.Request, op *operation, resp Response) {
	status := resp.Status
	if status == 0 {
		status = op.success.status
	}
	var body []byte
	switch b := resp.Body.(type) {
	case nil:
		if c := op.byCode[status]; c != nil {
			writeCanned(w, r, c, resp.Header)
			return
		}
		if status >= 400 {
			body, _ = marshal(map[string]any{"detail": http.StatusText(status)})
		}
	case []byte:
		body = b
	case json.RawMessage:
		body = b
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = marshal(b); err != nil {
			writeJSON(w, http.StatusInternalServerError, nil, map[string]any{"detail": "kelviqtest: encoding the response body of " + op.id + ": " + err.Error()})
			return
		}
	}
	writeBody(w, status, resp.Header, body)
}

// writeCanned writes a precomputed response, with extra headers.
func writeCanned(w http.ResponseWriter, r *http.Request, c *cannedResponse, extra http.Header) {
	if c.location {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		loc := scheme + "://" + r.Host + filesPath + r.URL.EscapedPath() + "?signature=kelviqtest"
		w.Header().Set("Location", loc)
	}
	writeBody(w, c.status, extra, c.body)
}

// writeBody writes status, headers and body; JSON unless the headers say
// otherwise, and never a body where the status forbids one.
func writeBody(w http.ResponseWriter, status int, extra http.Header, body []byte) {
	hdr := w.Header()
	for k, v := range extra {
		hdr[k] = slices.Clone(v)
	}
	noBody := status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	if len(body) > 0 && !noBody && hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	if len(body) > 0 && !noBody {
		w.Write(body)
	}
}

// writeJSON writes a JSON value.
func writeJSON(w http.ResponseWriter, status int, extra http.Header, v any) {
	body, err := marshal(v)
	if err != nil {
		body = []byte(`{"detail":"kelviqtest: encoding failed"}`)
	}
	writeBody(w, status, extra, body)
}

// serveFile serves the stand-in for a file on storage that a redirect of
// the fake points to.
func serveFile(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="kelviqtest-file"`)
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "kelviqtest file %s\n", name)
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// marshal is json.Marshal without HTML escaping: bodies keep "<" and "&"
// as the spec writes them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
