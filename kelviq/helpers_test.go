package kelviq_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Keys used by the tests. They look real enough to pass validation and are
// distinctive enough to be searched for in output.
const (
	testServerKey  = "sk_test_4f9c1e7a2b8d"
	testPartnerKey = "kvqp_test_93b1c0de77aa"
)

// callOperation calls op through c by reflection, by the Go name the
// operation table gives it, with placeholder arguments: "x1", "x2"… for
// path parameters, empty params structs, and an empty JSON object as body.
// It returns the call's error (the request is what the tests look at).
func callOperation(t *testing.T, c *kelviq.Client, op api.Operation) error {
	t.Helper()
	_, err := invokeOperation(t, c, op, func(_, n int) string { return fmt.Sprintf("x%d", n) })
	return err
}

// operationMethod is op's XxxWithResponse method on c, or
// XxxWithBodyWithResponse when it takes a body.
func operationMethod(t *testing.T, c *kelviq.Client, op api.Operation) reflect.Value {
	t.Helper()
	name := op.GoName + "WithResponse"
	if op.HasBody {
		name = op.GoName + "WithBodyWithResponse"
	}
	m := reflect.ValueOf(c).MethodByName(name)
	if !m.IsValid() {
		t.Fatalf("%s: the client has no method %s", op.ID, name)
	}
	return m
}

// invokeOperation calls op's method (operationMethod) with str(pos, n) for
// the n-th string argument (pos: its position after ctx; path parameters
// come first), empty params structs, zero values (a UUID: all zeros), and
// an empty JSON object as body. It returns the result (*api.XxxResult) and
// the error.
func invokeOperation(t *testing.T, c *kelviq.Client, op api.Operation, str func(pos, n int) string) (reflect.Value, error) {
	t.Helper()
	return invokeOperationWith(t, c, op, str)
}

// invokeOperationWith is invokeOperation passing request editors.
func invokeOperationWith(t *testing.T, c *kelviq.Client, op api.Operation, str func(pos, n int) string, editors ...api.RequestEditorFn) (reflect.Value, error) {
	t.Helper()
	m := operationMethod(t, c, op)
	mt := m.Type()
	args := []reflect.Value{reflect.ValueOf(context.Background())}
	n := 0
	for i := 1; i < mt.NumIn(); i++ {
		in := mt.In(i)
		if mt.IsVariadic() && i == mt.NumIn()-1 {
			break
		}
		switch {
		case in == reflect.TypeFor[io.Reader]():
			args = append(args, reflect.ValueOf(strings.NewReader("{}")))
		case in.Kind() == reflect.String && i == mt.NumIn()-3 && op.HasBody:
			args = append(args, reflect.ValueOf("application/json"))
		case in.Kind() == reflect.String:
			n++
			args = append(args, reflect.ValueOf(str(i, n)).Convert(in))
		case in.Kind() == reflect.Pointer:
			args = append(args, reflect.New(in.Elem()))
		default:
			args = append(args, reflect.New(in).Elem())
		}
	}
	for _, e := range editors {
		args = append(args, reflect.ValueOf(e))
	}
	out := m.Call(args)
	err, _ := out[len(out)-1].Interface().(error)
	return out[0], err
}

// templateRegexp matches the escaped paths of a path template below base.
func templateRegexp(base, template string) *regexp.Regexp {
	segs := strings.Split(template, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			segs[i] = `[^/]+`
		} else {
			segs[i] = regexp.QuoteMeta(seg)
		}
	}
	return regexp.MustCompile("^" + regexp.QuoteMeta(base) + strings.Join(segs, "/") + "$")
}

// recorded is one request as a server or transport saw it.
type recorded struct {
	Method string
	URL    string // absolute for a transport; path and query for a server
	Path   string
	Header http.Header
}

type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, URL: req.URL.String(), Path: req.URL.EscapedPath(), Header: req.Header.Clone()})
}

func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// RoundTrip records the request and answers it as declaredAnswer says,
// without sending anything.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.add(req)
	status, ct, body := declaredAnswer(req.Method, req.URL.EscapedPath())
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return &http.Response{
		StatusCode:    status,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// answerDeclared answers r as declaredAnswer says: a handler for the
// servers of tests that look at the request, not the answer.
func answerDeclared(w http.ResponseWriter, r *http.Request) {
	status, ct, body := declaredAnswer(r.Method, r.URL.EscapedPath())
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// declaredAnswer is the least answer the client takes as a success for
// the operation a request of method to path (below any base URL) is: the
// operation's first declared success status, with an empty JSON value of
// its result's type ({} or []) when the spec declares a JSON body for it.
// A request of no operation gets a 204.
func declaredAnswer(method, path string) (status int, ct, body string) {
	var best *api.Operation
	suffixes := operationSuffixes()
	for i := range api.Operations {
		op := &api.Operations[i]
		if op.Method == method && suffixes[i].MatchString(path) && (best == nil || len(op.Path) > len(best.Path)) {
			best = op
		}
	}
	if best == nil {
		return http.StatusNoContent, "", ""
	}
	status = best.Success[0]
	if status == http.StatusNoContent || !slices.Contains(best.JSONSuccess, status) {
		return status, "", ""
	}
	m, ok := reflect.TypeFor[*api.ClientWithResponses]().MethodByName(best.GoName + "WithResponse")
	if !ok {
		m, _ = reflect.TypeFor[*api.ClientWithResponses]().MethodByName(best.GoName + "WithBodyWithResponse")
	}
	body = "{}"
	if f, ok := m.Type.Out(0).Elem().FieldByName("JSON" + strconv.Itoa(status)); ok && f.Type.Elem().Kind() == reflect.Slice {
		body = "[]"
	}
	return status, "application/json", body
}

// operationSuffixes matches, for each operation of the table, a path that
// ends in the operation's path template (below any base URL).
var operationSuffixes = sync.OnceValue(func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(api.Operations))
	for i, op := range api.Operations {
		out[i] = regexp.MustCompile("^.*" + strings.TrimPrefix(templateRegexp("", op.Path).String(), "^"))
	}
	return out
})
