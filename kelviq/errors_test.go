package kelviq

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kelviq/kelviq-go/api"
)

func TestDecodeErrorBody(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		msg                     string
		fields                  map[string][]string
	}{
		{"status and message", "application/json", `{"status": "Bad request", "message": "Offering does not exists"}`, "Offering does not exists", nil},
		{"status only", "application/json", `{"status": "Bad request"}`, "Bad request", nil},
		{"detail", "application/json", `{"detail": "Customer does not exist."}`, "Customer does not exist.", nil},
		{"error and fields", "application/json", `{"error": "Invalid refund.", "amount": ["Ensure this value is greater than 0."], "reason": ["\"x\" is not a valid choice.", "Required."]}`,
			"Invalid refund.", map[string][]string{"amount": {"Ensure this value is greater than 0."}, "reason": {`"x" is not a valid choice.`, "Required."}}},
		{"fields only", "application/json", `{"email": ["Enter a valid email address."]}`, "", map[string][]string{"email": {"Enter a valid email address."}}},
		{"nested fields", "application/json", `{"billingAddress": {"country": ["Required."]}, "code": "invalid"}`, "", map[string][]string{"billingAddress.country": {"Required."}}},
		{"non_field_errors", "application/json", `{"non_field_errors": ["Plan is archived."]}`, "Plan is archived.", map[string][]string{"non_field_errors": {"Plan is archived."}}},
		{"detail list", "application/json", `{"detail": ["a", "b"]}`, "a; b", nil},
		{"detail object of fields", "application/json", `{"detail": {"page_size": ["Too large."]}}`, "", map[string][]string{"page_size": {"Too large."}}},
		{"errors list", "application/json", `{"errors": [{"message": "first"}, {"message": "second"}]}`, "first; second", nil},
		{"error object", "application/json", `{"error": {"message": "Card declined", "code": "card_declined"}}`, "Card declined", nil},
		{"top-level list", "application/json", `["Plan not found."]`, "Plan not found.", nil},
		{"top-level string", "application/json", `"Nope."`, "Nope.", nil},
		{"message wins over detail", "application/json", `{"detail": "d", "message": "m"}`, "m", nil},
		{"numbers in a list", "application/json", `{"quantity": [5, true, null, ["x"]]}`, "", map[string][]string{"quantity": {"5", "true"}}},
		{"control characters", "application/json", `{"message": "line one\nline\ttwo\u0000"}`, "line one line two", nil},
		{"plain text", "text/plain; charset=utf-8", "upstream connect error\nmore", "upstream connect error", nil},
		{"HTML", "text/html", "<html><head><title>502 Bad Gateway</title></head></html>", "", nil},
		{"truncated JSON", "application/json", `{"message": "cut`, "", nil},
		{"empty", "application/json", "  ", "", nil},
		{"JSON null", "application/json", "null", "", nil},
	} {
		msg, fields := decodeErrorBody(tc.contentType, []byte(tc.body), nil)
		if msg != tc.msg || !reflect.DeepEqual(fields, tc.fields) {
			t.Errorf("%s: got %q %v; want %q %v", tc.name, msg, fields, tc.msg, tc.fields)
		}
	}
}

func TestDecodeErrorBodyCapsTheMessage(t *testing.T) {
	long := strings.Repeat("é", maxMessage)
	msg, _ := decodeErrorBody("application/json", []byte(`{"message":"`+long+`"}`), nil)
	if len(msg) > maxMessage || !utf8.ValidString(msg) || !strings.HasSuffix(msg, "…") {
		t.Errorf("len %d, valid %v, suffix %q", len(msg), utf8.ValidString(msg), msg[len(msg)-5:])
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{
		StatusCode: 400, Message: "Invalid refund.", Method: "POST", Operation: "createRefund", PathTemplate: "/refunds/",
		FieldErrors: map[string][]string{"reason": {"Required."}, "amount": {"Too big.", "Not a number."}},
		RequestID:   "req_42",
	}
	want := "kelviq: createRefund (POST /refunds/): 400 Bad Request: Invalid refund.; amount: Too big. Not a number.; reason: Required. (request ID req_42)"
	if got := e.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	e = &Error{StatusCode: 502, Method: "GET", path: "/somewhere/"}
	if got, want := e.Error(), "kelviq: GET /somewhere/: 502 Bad Gateway"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	many := map[string][]string{}
	for _, k := range strings.Split("a b c d e f g h i j k l", " ") {
		many[k] = []string{"bad"}
	}
	e = &Error{StatusCode: 400, Method: "POST", Operation: "x", PathTemplate: "/x/", FieldErrors: many}
	if got := e.Error(); !strings.HasSuffix(got, "; j: bad; and 2 more fields") {
		t.Errorf("got %s", got)
	}
}

func TestErrorIs(t *testing.T) {
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrRateLimited, ErrServerError}
	for code, want := range map[int]error{
		400: nil, 401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 409: ErrConflict, 422: nil, 428: nil,
		429: ErrRateLimited, 500: ErrServerError, 502: ErrServerError, 503: ErrServerError, 599: ErrServerError, 302: nil,
	} {
		var err error = &Error{StatusCode: code}
		for _, s := range sentinels {
			if got := errors.Is(err, s); got != (s == want) {
				t.Errorf("%d: errors.Is(%v) = %v", code, s, got)
			}
		}
	}
	if errors.Is(&Error{StatusCode: 404}, ErrInvalidConfig) {
		t.Error("an API error is a configuration error")
	}
}

// newError reads what the error needs from the response, caps the body and
// redacts the client's keys wherever the server echoed them.
func TestNewError(t *testing.T) {
	const key = "sk_test_echoedsecret"
	c := &responseChecker{maxBody: DefaultMaxResponseBytes, red: newRedactor(key)}
	body := `{"detail": "Invalid token Bearer ` + key + `", "` + key + `": ["` + key + `"]}` + strings.Repeat(" ", 2*maxErrorBody)
	resp := &http.Response{
		StatusCode: 401,
		Header: http.Header{
			"Content-Type": {"application/json"}, "X-Request-Id": {"req_7\r\n" + key}, "Retry-After": {"3"},
		},
		Body: io.NopCloser(strings.NewReader(body)),
	}
	req, _ := http.NewRequest("GET", "https://api.kelviq.com/api/v1/customers/", nil)
	e := c.newError(listCustomersOp, req, resp)
	// redacted, then cut at the cap
	if want := maxErrorBody; len(e.Body) != want {
		t.Errorf("body %d bytes, want %d", len(e.Body), want)
	}
	if e.StatusCode != 401 || e.RetryAfter != 3*time.Second || e.Operation != listCustomersOp.ID || e.PathTemplate != listCustomersOp.Path || e.Method != "GET" {
		t.Errorf("%+v", e)
	}
	if e.Message != "Invalid token Bearer [redacted]" || e.RequestID != "req_7  [redacted]" {
		t.Errorf("message %q, request ID %q", e.Message, e.RequestID)
	}
	if got := e.FieldErrors["[redacted]"]; len(got) != 1 || got[0] != "[redacted]" {
		t.Errorf("fields %v", e.FieldErrors)
	}
	if strings.Contains(string(e.Body), key) || strings.Contains(e.Error(), key) || strings.Contains(strings.Join(e.FieldErrors["[redacted]"], ""), key) {
		t.Error("the key survived")
	}

	// A key the body holds JSON-escaped is not in the raw bytes, but is in
	// the decoded message: redacted there too.
	escaped := `\u0073` + key[1:]
	resp = &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"message": "token ` + escaped + `", "k": ["` + escaped + `"]}`))}
	e = c.newError(listCustomersOp, req, resp)
	if e.Message != "token [redacted]" || e.FieldErrors["k"][0] != "[redacted]" {
		t.Errorf("escaped key: message %q, fields %v", e.Message, e.FieldErrors)
	}
}

// listCustomersOp is an operation of the table, for tests that need one.
var listCustomersOp = func() *api.Operation { op, _ := operations.lookup("GET", "/customers/"); return op }()

// fuzzKey is the key FuzzDecodeErrorBody redacts: no output may hold it.
const fuzzKey = "sk_test_fuzzsecret01"

var fuzzRedactor = newRedactor(fuzzKey)

func FuzzDecodeErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"status": "Bad request", "message": "Offering does not exists"}`,
		`{"detail": "Customer does not exist."}`,
		`{"error": "Amount exceeds order total.", "amount": ["Too big."]}`,
		`{"detail": {"a": {"b": ["c"]}}}`,
		`["x", 1, {"message": "y"}]`,
		`"plain"`,
		`<html>502</html>`,
		`{"message": "\u0000\n\t"}`,
	} {
		f.Add("application/json", []byte(s))
	}
	f.Add("application/json", []byte(`{"message": "\u0073`+fuzzKey[1:]+`", "`+fuzzKey[:12]+`": ["`+fuzzKey+`"]}`))
	f.Add("text/plain", []byte("upstream connect error or disconnect/reset before headers"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		msg, fields := decodeErrorBody(contentType, body, fuzzRedactor)
		checkText := func(what, s string, max int) {
			if len(s) > max || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 || s != strings.TrimSpace(s) {
				t.Fatalf("%s %q: longer than %d, invalid UTF-8, control characters or untrimmed", what, s, max)
			}
			if strings.Contains(s, fuzzKey) || strings.Contains(s, fuzzKey[:minFragment]+"…") {
				t.Fatalf("%s %q holds the key", what, s)
			}
		}
		checkText("message", msg, maxMessage)
		if len(fields) > maxFields {
			t.Fatalf("%d fields", len(fields))
		}
		for k, v := range fields {
			checkText("field", k, maxFieldKey)
			if len(v) == 0 {
				t.Fatalf("field %q without messages", k)
			}
			for _, m := range v {
				checkText("field message", m, maxMessage)
			}
		}
		msg2, fields2 := decodeErrorBody(contentType, body, fuzzRedactor)
		if msg2 != msg || !reflect.DeepEqual(fields, fields2) {
			t.Fatal("not deterministic")
		}
	})
}
