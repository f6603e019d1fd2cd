package kelviq_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// callForResult calls op through c (invokeOperation) and returns its
// result (a *api.XxxResult, nil on error) and error.
func callForResult(t *testing.T, c *kelviq.Client, op api.Operation) (reflect.Value, error) {
	t.Helper()
	return invokeOperation(t, c, op, func(_, n int) string { return fmt.Sprintf("x%d", n) })
}

// jsonStatuses returns the statuses of op for which the spec declares a
// JSON body, 204 left out (it has none; see declaresJSON).
func jsonStatuses(op api.Operation) []int {
	var out []int
	for _, s := range op.JSONSuccess {
		if s != http.StatusNoContent {
			out = append(out, s)
		}
	}
	return out
}

// Every operation with a declared JSON success body, through kelviq.Client
// against a loopback server: an empty, non-JSON or undecodable body of
// that status is an error wrapping ErrUnexpectedResponse that names the
// operation, the status and the Content-Type; a valid body fills JSONxxx.
// So when err is nil, JSONxxx is not nil.
func TestEverySuccessBodyIsThereWhenErrIsNil(t *testing.T) {
	var mu sync.Mutex
	var status int
	var ct, body string
	var chunked bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, typ, b, ch := status, ct, body, chunked
		mu.Unlock()
		if typ != "" {
			w.Header().Set("Content-Type", typ)
		}
		if !ch {
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		}
		w.WriteHeader(st)
		if ch {
			w.(http.Flusher).Flush() // chunked, whatever follows
		}
		_, _ = io.WriteString(w, b)
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithBaseURL(srv.URL), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(st int, typ, b string, ch bool) {
		mu.Lock()
		status, ct, body, chunked = st, typ, b, ch
		mu.Unlock()
	}

	bad := []struct {
		name, ct, body string
		chunked        bool
	}{
		{"empty", "application/json", "", false},
		{"empty, chunked", "application/json", "", true},
		{"empty, no Content-Type", "", "", false},
		{"blank", "application/json", "  \n", false},
		{"HTML as JSON", "application/json", "<html>proxy</html>", true},
		{"HTML", "text/html; charset=utf-8", "<html>captive portal</html>", false},
		{"cut short", "application/json", `{"a":`, false},
		{"wrong shape", "application/json", `"just a string"`, false},
		// null decodes into any Go type, leaving it zero: JSONxxx would be
		// set to an empty value with no error.
		{"null", "application/json", "null", false},
		{"null, spaced and chunked", "application/json; charset=utf-8", " \tnull\n", true},
	}
	// Media types are case-insensitive; parameters and +json suffixes are
	// common. Each fills JSONxxx.
	validTypes := []string{"application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "Application/Problem+JSON; Charset=UTF-8"}
	ops, checked := 0, 0
	for _, op := range api.Operations {
		for _, st := range jsonStatuses(op) {
			ops++
			// A valid body for the field's type fills it.
			resultType := resultTypeOf(t, c, op)
			field, ok := resultType.FieldByName("JSON" + strconv.Itoa(st))
			if !ok {
				t.Errorf("%s: the spec declares a JSON %d, the result has no JSON%d", op.ID, st, st)
				continue
			}
			valid := "{}"
			if k := field.Type.Elem().Kind(); k == reflect.Slice {
				valid = "[]"
			}
			for _, typ := range validTypes {
				serve(st, typ, valid, false)
				res, err := callForResult(t, c, op)
				if err != nil || res.IsNil() || res.Elem().FieldByName(field.Name).IsNil() {
					t.Errorf("%s: a valid %d body as %q: error %v, %s nil", op.ID, st, typ, err, field.Name)
				}
			}
			for _, b := range bad {
				serve(st, b.ct, b.body, b.chunked)
				res, err := callForResult(t, c, op)
				checked++
				msg := fmt.Sprint(err)
				switch {
				case !errors.Is(err, kelviq.ErrUnexpectedResponse):
					t.Errorf("%s, %d %s: error %v (result nil: %v)", op.ID, st, b.name, err, res.IsNil())
				case !strings.Contains(msg, op.ID) || !strings.Contains(msg, strconv.Itoa(st)) || !strings.Contains(msg, strconv.Quote(b.ct)):
					t.Errorf("%s, %d %s: the error does not name operation, status and Content-Type: %s", op.ID, st, b.name, msg)
				case strings.Count(msg, "kelviq:") != 1:
					t.Errorf("%s, %d %s: %s", op.ID, st, b.name, msg)
				}
			}
		}
	}
	if ops < 40 {
		t.Errorf("only %d operations with a JSON success body", ops)
	}
	t.Logf("%d operation statuses, %d bad bodies refused", ops, checked)

	// 204s stay as they were: no body, no error.
	for _, op := range api.Operations {
		if len(op.Success) == 1 && op.Success[0] == http.StatusNoContent {
			serve(http.StatusNoContent, "", "", false)
			if _, err := callForResult(t, c, op); err != nil {
				t.Errorf("%s: 204: %v", op.ID, err)
			}
		}
	}
}

// resultTypeOf is the struct type of op's *api.XxxResult.
func resultTypeOf(t *testing.T, c *kelviq.Client, op api.Operation) reflect.Type {
	t.Helper()
	return operationMethod(t, c, op).Type().Out(0).Elem()
}
