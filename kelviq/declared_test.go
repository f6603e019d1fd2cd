package kelviq_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Every operation, against a loopback server answering each 2xx status the
// operation does not declare (with a JSON body that would decode, and
// with none): the call fails with ErrUnexpectedResponse naming the
// operation and the status, and never returns a result with every
// JSONxxx nil and a nil error.
func TestEveryUndeclared2xxIsUnexpectedResponse(t *testing.T) {
	var status atomic.Int64
	var withBody atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if withBody.Load() {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Location", "https://files.example/plan.pdf")
		w.WriteHeader(int(status.Load()))
		if withBody.Load() {
			_, _ = io.WriteString(w, "{}")
		}
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithBaseURL(srv.URL), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, op := range api.Operations {
		for st := 200; st <= 299; st++ {
			if slices.Contains(op.Success, st) || (st > 208 && st != 226 && st != 299) {
				continue // declared; or not a status anyone sends (299 stands for them)
			}
			for _, body := range []bool{true, false} {
				status.Store(int64(st))
				withBody.Store(body)
				res, err := callForResult(t, c, op)
				checked++
				msg := fmt.Sprint(err)
				switch {
				case err == nil:
					t.Errorf("%s: undeclared %d (body %v): no error, result %v", op.ID, st, body, res.Interface())
				case !errors.Is(err, kelviq.ErrUnexpectedResponse):
					t.Errorf("%s: undeclared %d: %v, want ErrUnexpectedResponse", op.ID, st, err)
				case !res.IsNil():
					t.Errorf("%s: undeclared %d: a result with the error", op.ID, st)
				case !strings.Contains(msg, op.ID) || !strings.Contains(msg, "status "+strconv.Itoa(st)) || !strings.Contains(msg, "declares "+strconv.Itoa(op.Success[0])):
					t.Errorf("%s: undeclared %d: the error does not name the operation, status and declared status: %s", op.ID, st, msg)
				case op.Method != http.MethodGet && !strings.Contains(msg, "may have taken effect"):
					t.Errorf("%s: undeclared %d: a %s does not say it may have taken effect: %s", op.ID, st, op.Method, msg)
				}
			}
		}
		// The declared status still passes (the body fits the result).
		st, ct, b := declaredAnswer(op.Method, op.Path)
		_ = ct
		status.Store(int64(st))
		withBody.Store(b != "")
		if b == "[]" {
			continue // the server above answers {}
		}
		if _, err := callForResult(t, c, op); err != nil {
			t.Errorf("%s: declared %d: %v", op.ID, st, err)
		}
	}
	if checked < 64*10 {
		t.Errorf("only %d answers checked", checked)
	}
}

// The iterators stop at an undeclared 2xx with the same error.
func TestIteratorStopsAtAnUndeclared2xx(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"count":1,"next":null,"results":[{"customerId":"c1"}]}`)
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range c.ListCustomersIter(t.Context(), nil) {
		n++
		if !errors.Is(err, kelviq.ErrUnexpectedResponse) || !strings.Contains(err.Error(), "status 202") {
			t.Errorf("item %d: %v", n, err)
		}
	}
	if n != 1 {
		t.Errorf("%d items, want the error alone", n)
	}
}

// Every list operation with page_size refuses a page_size below 1 (set in
// params, or written by a request editor) before sending, naming the
// operation and the parameter; nothing reaches the server. 1 is sent.
func TestEveryPageSizeBelowOneIsRefusedBeforeSending(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RawQuery)
		mu.Unlock()
		answerDeclared(w, r)
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithBaseURL(srv.URL), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
	lists := 0
	for _, op := range api.Operations {
		m := operationMethod(t, c, op)
		params := -1
		for i := 1; i < m.Type().NumIn(); i++ {
			if in := m.Type().In(i); in.Kind() == reflect.Pointer && strings.HasSuffix(in.Elem().Name(), "Params") {
				if _, ok := in.Elem().FieldByName("PageSize"); ok {
					params = i
				}
			}
		}
		if params < 0 {
			if op.Paginated {
				t.Errorf("%s is paginated and has no PageSize", op.ID)
			}
			continue
		}
		lists++
		call := func(size int, editors ...api.RequestEditorFn) error {
			args := []reflect.Value{reflect.ValueOf(context.Background())}
			for i := 1; i < m.Type().NumIn(); i++ {
				in := m.Type().In(i)
				switch {
				case m.Type().IsVariadic() && i == m.Type().NumIn()-1:
				case i == params:
					p := reflect.New(in.Elem())
					s := size
					p.Elem().FieldByName("PageSize").Set(reflect.ValueOf(&s))
					args = append(args, p)
				case in.Kind() == reflect.String:
					args = append(args, reflect.ValueOf("x1").Convert(in))
				default:
					args = append(args, reflect.New(in).Elem())
				}
			}
			for _, e := range editors {
				args = append(args, reflect.ValueOf(e))
			}
			out := m.Call(args)
			err, _ := out[len(out)-1].Interface().(error)
			return err
		}
		for _, size := range []int{0, -1, math.MinInt} {
			err := call(size)
			msg := fmt.Sprint(err)
			if !errors.Is(err, kelviq.ErrInvalidParameter) || !strings.Contains(msg, op.ID) || !strings.Contains(msg, "page_size") || !strings.Contains(msg, "below 1") {
				t.Errorf("%s: page_size %d: %v", op.ID, size, err)
			}
		}
		// A request editor writing it: read as a server would.
		for _, q := range []string{"page_size=0", "page_size=-0", "page_size=-1", "page%5Fsize=%30", "page_size=-99999999999999999999999"} {
			editor := func(_ context.Context, req *http.Request) error {
				req.URL.RawQuery = q
				return nil
			}
			if err := call(1, editor); !errors.Is(err, kelviq.ErrInvalidParameter) || !strings.Contains(err.Error(), "below 1") {
				t.Errorf("%s: query %s: %v", op.ID, q, err)
			}
		}
		if got := take(); len(got) != 0 {
			t.Errorf("%s: sent %v", op.ID, got)
		}
		if err := call(1); err != nil {
			t.Errorf("%s: page_size 1: %v", op.ID, err)
		}
		if got := take(); len(got) != 1 || url.Values(mustQuery(t, got[0])).Get("page_size") != "1" {
			t.Errorf("%s: page_size 1 sent as %v", op.ID, got)
		}
	}
	if lists != 13 {
		t.Errorf("%d list operations with page_size, the spec has 13", lists)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
