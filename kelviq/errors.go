package kelviq

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kelviq/kelviq-go/api"
)

// Sentinels an *Error matches with errors.Is, by its status code:
//
//	if errors.Is(err, kelviq.ErrNotFound) { … }
//
// They classify API errors only: a network failure or a cancelled context
// matches none of them.
var (
	// ErrUnauthorized matches a 401: the key is missing, wrong, revoked, or
	// belongs to the other environment.
	ErrUnauthorized = errors.New("kelviq: unauthorized")
	// ErrForbidden matches a 403: the key may not do this.
	ErrForbidden = errors.New("kelviq: forbidden")
	// ErrNotFound matches a 404.
	ErrNotFound = errors.New("kelviq: not found")
	// ErrConflict matches a 409, e.g. provisioning an organization whose
	// external ID exists.
	ErrConflict = errors.New("kelviq: conflict")
	// ErrRateLimited matches a 429 that was not retried, or still failed
	// after the retries; Error.RetryAfter says when to try again.
	ErrRateLimited = errors.New("kelviq: rate limited")
	// ErrServerError matches any 5xx.
	ErrServerError = errors.New("kelviq: server error")
)

// Error is an answer of the kelviq API that is not a success: a status the
// spec does not declare as the operation's success (any status but a 2xx,
// or a 3xx the spec declares, such as the 302 of downloadCatalogPlanFile).
// The client returns it from the call, after its retries, instead of a
// result, so XxxWithResponse returns (nil, err) with
//
//	var apiErr *kelviq.Error
//	if errors.As(err, &apiErr) { … apiErr.StatusCode, apiErr.Message … }
//
// A network failure, a timeout or a cancelled context is never an *Error
// (test those with errors.Is(err, context.Canceled) and
// context.DeadlineExceeded, or *url.Error). Neither the error text nor any
// field contains the client's keys: a key the server echoes back is
// replaced by "[redacted]".
//
// Error bodies come in three shapes ({"status", "message"}, {"detail"} and
// {"error", "<field>": […]}); Message and FieldErrors are read from any of
// them. See https://docs.kelviq.com/api-reference/introduction.
type Error struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Message is the server's explanation, from the body's "message",
	// "detail" or "error" (or a plain-text body); empty when there is none.
	Message string
	// FieldErrors holds per-field validation errors, keyed by request field
	// (nested fields joined with "."), when the body has them.
	FieldErrors map[string][]string
	// Method is the request's HTTP method.
	Method string
	// Operation is the spec's operationId, e.g. "createCharge".
	Operation string
	// PathTemplate is the operation's path, e.g. "/customers/{customerId}/".
	PathTemplate string
	// RequestID is the server's request ID header (X-Request-Id,
	// Request-Id, X-Kelviq-Request-Id or X-Amzn-Requestid), when present:
	// quote it to kelviq's support.
	RequestID string
	// RetryAfter is the wait the server asked for in Retry-After, when it
	// sent one (typically with a 429 or 503).
	RetryAfter time.Duration
	// Body is the raw response body, at most 64 KiB of it.
	Body []byte

	path string // the request's URL path, shown when the operation is unknown
}

// maxErrorBody caps Error.Body; maxMessage caps Message and each field error;
// maxFields caps the number of FieldErrors.
const (
	maxErrorBody = 64 << 10
	maxMessage   = 1 << 10
	maxFields    = 64
	maxFieldKey  = 128
	maxRequestID = 128
)

// requestIDHeaders are the headers a request ID is read from, in order.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Kelviq-Request-Id", "X-Amzn-Requestid"}

// Error returns e.g. `kelviq: retrieveOrder (GET /orders/{id}/): 404 Not
// Found: Order not found. (request ID 9f1c…)`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kelviq: ")
	switch {
	case e.Operation != "":
		b.WriteString(e.Operation)
		b.WriteString(" (")
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.PathTemplate)
		b.WriteByte(')')
	default:
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.path)
	}
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	keys := make([]string, 0, len(e.FieldErrors))
	for k := range e.FieldErrors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	shown := 0
	for i, k := range keys {
		if shown == 10 {
			b.WriteString("; and " + strconv.Itoa(len(keys)-i) + " more fields")
			break
		}
		text := k + ": " + strings.Join(e.FieldErrors[k], " ")
		if strings.Contains(e.Message, text) {
			continue // the message says it already ({"error": "page_size: …", "page_size": ["…"]})
		}
		b.WriteString("; ")
		b.WriteString(text)
		shown++
	}
	if e.RequestID != "" {
		b.WriteString(" (request ID ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's status: ErrUnauthorized
// (401), ErrForbidden (403), ErrNotFound (404), ErrConflict (409),
// ErrRateLimited (429) or ErrServerError (5xx).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerError:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// newError reads (at most 64 KiB of) an error response and closes it.
// Every text it keeps is redacted before it is cut: the body is read a
// little past the cap, so that a key across the cap is seen whole.
func (c *responseChecker) newError(op *api.Operation, req *http.Request, resp *http.Response) *Error {
	limit := min(int64(maxErrorBody), c.maxBody)
	// A read error (reset, timeout) leaves the part that arrived: the
	// status is known, which is what matters.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, limit+c.slack()))
	discardBody(resp)
	raw = c.red.bytes(raw)
	body := raw
	if int64(len(body)) > limit {
		body = c.red.bytes(body[:limit:limit]) // a piece of a key the cut left at the end
	}
	if len(body) == 0 {
		body = nil
	}
	e := &Error{
		StatusCode: resp.StatusCode,
		Method:     req.Method,
		Body:       body,
		path:       req.URL.EscapedPath(),
	}
	if op != nil {
		e.Operation, e.PathTemplate, e.Method = op.ID, op.Path, op.Method
	}
	for _, h := range requestIDHeaders {
		if v := resp.Header.Get(h); v != "" {
			e.RequestID = c.red.text(v, maxRequestID)
			break
		}
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if d, ok := parseRetryAfter(v, time.Now()); ok {
			e.RetryAfter = d
		}
	}
	e.Message, e.FieldErrors = decodeErrorBody(resp.Header.Get("Content-Type"), raw, c.red)
	return e
}

// slack is how far past a cap the client reads, to see a key across the
// cap whole: the longest key, every character JSON-escaped.
func (c *responseChecker) slack() int64 {
	n := 0
	if c.red != nil {
		for _, k := range c.red.keys {
			n = max(n, 6*len(k))
		}
	}
	return int64(n)
}

// discardBody reads a little of what is left of a body we do not use, so
// the connection can be reused, and closes it. It reads only what is
// already known to be short, so a stalled server cannot hold it up.
func discardBody(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	if resp.ContentLength >= 0 && resp.ContentLength <= 4<<10 {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	}
	_ = resp.Body.Close()
}

// decodeErrorBody returns the message and the per-field errors of an error
// body in any of kelviq's three shapes, {"status": …, "message": …},
// {"detail": …} and {"error": …, "<field>": ["…"]}, and the other common
// ones (a list of messages, {"errors": …}, a plain-text body). Everything it
// returns is valid UTF-8 without control characters, and capped in length.
//
// Each text is redacted by r (nil: nothing to redact) before it is cut.
func decodeErrorBody(contentType string, body []byte, r *redactor) (msg string, fields map[string][]string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", nil
	}
	switch trimmed[0] {
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(trimmed, &obj) != nil {
			return "", nil
		}
		return fromErrorObject(obj, r)
	case '[', '"':
		return r.text(strings.Join(texts(trimmed), "; "), maxMessage), nil
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "text/plain" {
		line, _, _ := bytes.Cut(trimmed, []byte("\n"))
		return r.text(string(line), maxMessage), nil
	}
	return "", nil
}

// messageKeys are the keys a message is read from, by preference.
var messageKeys = []string{"message", "detail", "error", "errors", "non_field_errors", "status"}

func fromErrorObject(obj map[string]json.RawMessage, r *redactor) (string, map[string][]string) {
	var msg string
	for _, k := range messageKeys {
		if raw, ok := obj[k]; ok {
			if m := strings.Join(texts(raw), "; "); m != "" {
				msg = r.text(m, maxMessage)
				break
			}
		}
	}
	fields := map[string][]string{}
	for k, raw := range obj {
		switch k {
		case "message", "error", "status":
			continue
		case "detail", "errors":
			// {"detail": {"email": ["…"]}}: fields inside.
			collectFields(fields, "", raw, 0, r)
			continue
		}
		collectFields(fields, k, raw, 0, r)
	}
	if len(fields) == 0 {
		fields = nil
	}
	return msg, fields
}

// collectFields adds the field errors in raw under key: a list of messages
// (["…"]) or a string is a field's errors, an object holds nested fields.
func collectFields(fields map[string][]string, key string, raw json.RawMessage, depth int, r *redactor) {
	if len(fields) >= maxFields || depth > 4 {
		return
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '[':
		if key == "" {
			return
		}
		addField(fields, key, texts(raw), r)
	case '"':
		if key == "" || depth == 0 {
			// A top-level string beside the message ("code": "x") is not a
			// field error.
			return
		}
		addField(fields, key, texts(raw), r)
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			sub := k
			if key != "" {
				sub = key + "." + k
			}
			collectFields(fields, sub, obj[k], depth+1, r)
		}
	}
}

// addField adds the non-empty msgs to the errors of field key.
func addField(fields map[string][]string, key string, msgs []string, r *redactor) {
	k := r.text(key, maxFieldKey)
	if k == "" {
		return
	}
	for _, m := range msgs {
		if m = r.text(m, maxMessage); m != "" {
			fields[k] = append(fields[k], m)
		}
	}
}

// texts returns the messages in raw: a string, a list of strings (numbers
// and booleans as written), or objects carrying a "message" (or "detail").
func texts(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) != "" {
			return []string{s}
		}
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		var out []string
		for _, item := range list {
			item = bytes.TrimSpace(item)
			if len(item) == 0 {
				continue
			}
			switch item[0] {
			case '"', '{':
				out = append(out, texts(item)...)
			case '[', 'n':
				// nested lists and nulls carry no message
			default:
				out = append(out, string(item))
			}
			if len(out) >= maxFields {
				break
			}
		}
		return out
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for _, k := range []string{"message", "detail"} {
			if v, ok := obj[k]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '"' {
				return texts(v)
			}
		}
	}
	return nil
}

// clean makes s safe to put in an error text: valid UTF-8, control
// characters (newlines included) turned into spaces, trimmed, and at most
// max bytes (cut at a rune boundary, marked with "…").
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	s = strings.TrimSpace(s)
	if len(s) > max {
		cut := max - len("…")
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut]) + "…"
	}
	return s
}
