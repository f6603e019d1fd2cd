package kelviq_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
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

// RoundTrip records the request and answers 204 without sending anything.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.add(req)
	return &http.Response{
		StatusCode: http.StatusNoContent,
		Header:     http.Header{},
		Body:       http.NoBody,
		Request:    req,
	}, nil
}
