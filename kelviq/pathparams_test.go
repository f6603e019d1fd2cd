package kelviq_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/pathtemplate"
	"github.com/kelviq/kelviq-go/kelviq"
)

// hostileSegments are path parameter values a careless caller passes on
// from an end user. "." and ".." would be resolved away by the URL (the
// request reaching another operation) and must be refused; so must a value
// with a dot piece between '/', '\' or ';' (a server decoding %2F, or
// taking '\' for '/', would resolve it) and one with a control character.
// The others are one escaped segment of the operation's own path.
var hostileSegments = []struct {
	value  string
	refuse bool
}{
	{".", true}, {"..", true}, {"../x", true}, {"a/..", true}, {"./x", true}, {"x/.", true},
	{"..\\x", true}, {"a\\..", true}, {"..;x", true}, {"a\x00", true}, {"a\nb", true}, {"a\rb", true},
	{"/", true}, {"\\", true}, {"/\\;", true},
	{"%2e%2e", false}, {".%2e", false}, {"%2E%2E%2F", false}, {"a/b", false}, {"a//", false}, {"?x", false}, {"#", false},
	{"...", false}, {".a", false}, {"a..b", false}, {"a/.../b", false}, {"\u2024\u2024", false}, {"\uff0e\uff0e", false},
	{"a b+c&d=e;f", false}, {strings.Repeat("x", 8<<10), false}, {strings.Repeat("../", 4<<10), true},
}

// callWithPathParam calls op through c (invokeOperation) with path
// parameter number param (0-based, in path order) set to value and the
// other strings to "p1", "p2"…; a path parameter that is not a string (a
// UUID) cannot be set (ok false).
func callWithPathParam(t *testing.T, c *kelviq.Client, op api.Operation, param int, value string) (err error, ok bool) {
	t.Helper()
	if operationMethod(t, c, op).Type().In(param+1).Kind() != reflect.String {
		return nil, false
	}
	_, err = invokeOperation(t, c, op, func(pos, n int) string {
		if pos-1 == param {
			return value
		}
		return fmt.Sprintf("p%d", n)
	})
	return err, true
}

// Every operation with path parameters, each parameter in turn set to each
// hostile value, against a loopback server that records what arrives:
// nothing arrives but requests for that same operation, with the value as
// one escaped segment, and "." and ".." are refused with
// ErrInvalidParameter before anything is sent.
func TestPathParametersNeverSwitchTheOperation(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		writeJSON(w, http.StatusNotFound, `{"detail":"Not found."}`)
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ops, calls, refused := 0, 0, 0
	for _, op := range api.Operations {
		tpl := pathtemplate.Parse(op.Path)
		nParams := strings.Count(op.Path, "{")
		if nParams == 0 {
			continue
		}
		ops++
		for param := range nParams {
			for _, hv := range hostileSegments {
				err, ok := callWithPathParam(t, c, op, param, hv.value)
				if !ok {
					continue // not a string parameter
				}
				calls++
				got := rec.take()
				where := fmt.Sprintf("%s parameter %d = %q", op.ID, param, hv.value)
				if hv.refuse {
					refused++
					if !errors.Is(err, kelviq.ErrInvalidParameter) {
						t.Errorf("%s: error %v, want ErrInvalidParameter", where, err)
					} else if !strings.Contains(err.Error(), op.ID) {
						t.Errorf("%s: the error does not name the operation: %v", where, err)
					} else if len(err.Error()) > 512 {
						t.Errorf("%s: an error of %d bytes", where, len(err.Error()))
					}
					if len(got) != 0 {
						t.Errorf("%s: %d requests arrived, first %s %s", where, len(got), got[0].Method, got[0].Path)
					}
					continue
				}
				if errors.Is(err, kelviq.ErrInvalidParameter) || len(got) != 1 {
					t.Errorf("%s: %d requests arrived, error %v", where, len(got), err)
					continue
				}
				params := tpl.Params(got[0].Path)
				if got[0].Method != op.Method || params == nil {
					t.Errorf("%s: arrived as %s %s, not as %s %s", where, got[0].Method, got[0].Path, op.Method, op.Path)
					continue
				}
				name := strings.Trim(strings.Split(op.Path, "/")[segmentOf(op.Path, param)], "{}")
				if params[name] != hv.value {
					t.Errorf("%s: the parameter arrived as %q (path %s)", where, params[name], got[0].Path)
				}
			}
		}
	}
	if ops < 20 || refused < 200 {
		t.Errorf("only %d operations, %d refused calls of %d: the table proves little", ops, refused, calls)
	}
	t.Logf("%d operations with path parameters, %d calls, %d refused", ops, calls, refused)
}

// segmentOf returns the index (in the path split at '/') of the n-th
// parameter of a template.
func segmentOf(template string, n int) int {
	for i, seg := range strings.Split(template, "/") {
		if strings.HasPrefix(seg, "{") {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return -1
}

// The cases of the report, as a user would write them.
func TestDotDotCannotDeleteThePlan(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		answerDeclared(w, r)
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_, err1 := c.DeleteCatalogPlanFeatureWithResponse(ctx, "plan_1", "..")
	_, err2 := c.DeleteCatalogPlanFeatureWithResponse(ctx, "..", "feat_1")
	_, err3 := c.UpdateCatalogPlanFeatureWithResponse(ctx, "plan_1", "..", api.UpdateCatalogPlanFeatureJSONRequestBody{})
	_, err4 := c.ClientWithResponses.ClientInterface.DeleteCatalogPlanFeature(ctx, "plan_1", ".")
	for i, err := range []error{err1, err2, err3, err4} {
		if !errors.Is(err, kelviq.ErrInvalidParameter) || !strings.Contains(err.Error(), "feature") && i != 1 {
			t.Errorf("call %d: %v", i+1, err)
		}
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("%d requests arrived, first %s %s", len(got), got[0].Method, got[0].Path)
	}
	// A legitimate value still goes out, escaped.
	if _, err := c.DeleteCatalogPlanFeatureWithResponse(ctx, "plan 1", "a/b"); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || got[0].Path != "/catalog/plans/plan%201/features/a%2Fb/" {
		t.Errorf("arrived: %+v", got)
	}
}

// A request editor runs after the path is built, so it can move a call to
// another operation, which the router would send with that operation's
// credential (a DELETE of the whole plan). Every generated method marks the
// operation it builds the request for, and the router refuses a request
// that no longer matches it: for every operation, an editor rewriting the
// request into deleteCatalogPlan gets ErrUnknownOperation and nothing is
// sent. An edit that stays within the operation still goes out.
func TestEditorCannotSwitchTheOperation(t *testing.T) {
	c, rec := recordingClient(t)
	const target = "deleteCatalogPlan"
	editor := func(_ context.Context, req *http.Request) error {
		req.Method = http.MethodDelete
		req.URL.Path = "/catalog/plans/plan_1/"
		req.URL.RawPath = ""
		return nil
	}
	refused := 0
	for _, op := range api.Operations {
		_, err := invokeOperationWith(t, c, op, func(_, n int) string { return fmt.Sprintf("x%d", n) }, editor)
		got := rec.take()
		if op.ID == target {
			continue // the edit leaves it what it is
		}
		if !errors.Is(err, kelviq.ErrUnknownOperation) || !strings.Contains(fmt.Sprint(err), op.ID) {
			t.Errorf("%s edited into %s: error %v", op.ID, target, err)
		}
		for _, r := range got {
			t.Errorf("%s edited into %s: sent %s %s", op.ID, target, r.Method, r.Path)
		}
		refused++
	}
	if refused < 60 {
		t.Errorf("only %d operations tried", refused)
	}
	// Nor through the URL's Opaque, which net/http sends as the path.
	opaque := func(_ context.Context, req *http.Request) error {
		req.URL.Opaque = "/catalog/plans/plan_1/"
		return nil
	}
	if _, err := c.ListCustomersWithResponse(t.Context(), nil, opaque); !errors.Is(err, kelviq.ErrUnknownOperation) {
		t.Errorf("opaque: %v", err)
	}
	for _, r := range rec.take() {
		t.Errorf("opaque: sent %s %s", r.Method, r.Path)
	}
	// Nor by a dot segment inside the operation's own template
	// (deleteCatalogPlanFeature with feature_id ".."), which a server
	// would resolve into deleteCatalogPlan's path.
	for _, raw := range []string{"/catalog/plans/plan_1/features/../", "/catalog/plans/plan_1/features/%2e%2E/", "/catalog/plans/plan_1/features/a%2F../"} {
		dots := func(_ context.Context, req *http.Request) error {
			u, err := url.Parse(raw)
			req.URL.Path, req.URL.RawPath = u.Path, u.RawPath
			return err
		}
		if _, err := c.DeleteCatalogPlanFeatureWithResponse(t.Context(), "plan_1", "feat_1", dots); !errors.Is(err, kelviq.ErrUnknownOperation) {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for _, r := range rec.take() {
		t.Errorf("dot segment: sent %s %s", r.Method, r.Path)
	}
	// An iterator's pages are marked too.
	for _, err := range c.ListCustomersIter(t.Context(), nil, editor) {
		if !errors.Is(err, kelviq.ErrUnknownOperation) {
			t.Errorf("iterator: %v", err)
		}
	}
	// An edit within the operation (a header, another value) is the
	// caller's to make.
	sameOp := func(_ context.Context, req *http.Request) error {
		req.URL.Path = strings.Replace(req.URL.Path, "feat_1", "feat_2", 1)
		return nil
	}
	if _, err := c.DeleteCatalogPlanFeatureWithResponse(t.Context(), "plan_1", "feat_1", sameOp); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || got[0].Path != "/catalog/plans/plan_1/features/feat_2/" {
		t.Errorf("sent %+v", got)
	}
}

// A nil request editor (a careless caller's conditional one) is dropped,
// as NewClient drops a nil Option: no operation panics on it, and the
// editors around it still run.
func TestNilEditorIsDropped(t *testing.T) {
	c, rec := recordingClient(t)
	tag := func(_ context.Context, req *http.Request) error {
		req.Header.Add("X-Tag", "1")
		return nil
	}
	for _, op := range api.Operations {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic: %v", op.ID, r)
				}
			}()
			_, _ = invokeOperationWith(t, c, op, func(_, n int) string { return fmt.Sprintf("x%d", n) }, nil, tag, nil, tag)
		}()
		got := rec.take()
		if len(got) != 1 || len(got[0].Header["X-Tag"]) != 2 {
			t.Errorf("%s: %d requests, X-Tag %v", op.ID, len(got), got)
		}
	}
	for _, err := range c.ListCustomersIter(t.Context(), nil, nil) {
		if err != nil && strings.Contains(err.Error(), "nil") {
			t.Errorf("iterator: %v", err)
		}
	}
}

// recordingClient is a client with both keys on a loopback server that
// records every request and answers 204.
func recordingClient(t *testing.T) (*kelviq.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		answerDeclared(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithBaseURL(srv.URL), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}
