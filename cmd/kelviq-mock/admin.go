package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// adminPrefix starts the paths of the admin endpoint (-admin).
const adminPrefix = "/__kelviqtest/"

// adminEndpoint is one route of the admin endpoint. The table is the one
// source of the routes, of -h's list and of the Allow headers.
type adminEndpoint struct {
	method, name, doc string
	serve             func(h *kelviqtest.Handler, r *http.Request) (int, any)
}

var adminEndpoints = []adminEndpoint{
	{"POST", "faults", `set a fault, e.g. {"operation":"listCustomers","status":503,"times":3}`, postFault},
	{"DELETE", "faults", "clear every fault", func(h *kelviqtest.Handler, _ *http.Request) (int, any) {
		h.ClearFaults()
		return http.StatusOK, detail("faults cleared")
	}},
	{"POST", "reset", "clear the faults and put the state back to the seed (recordings are kept)", func(h *kelviqtest.Handler, _ *http.Request) (int, any) {
		h.Reset()
		return http.StatusOK, detail("faults cleared, state back to the seed")
	}},
	{"GET", "requests", "the recorded requests, oldest first, as JSON (credentials redacted); ?operationId=reportUsage filters (repeatable)", getRequests},
	{"DELETE", "requests", "forget the recorded requests (and the count of dropped ones)", func(h *kelviqtest.Handler, _ *http.Request) (int, any) {
		n := h.ClearRequests()
		return http.StatusOK, map[string]any{"detail": "recorded requests cleared", "cleared": n}
	}},
	{"GET", "stats", "what the fake holds, what its limits made it drop, and the limits", func(h *kelviqtest.Handler, _ *http.Request) (int, any) {
		return http.StatusOK, h.Stats()
	}},
}

// maxAdminBody bounds an admin request's body.
const maxAdminBody = 64 << 10

func detail(s string) map[string]any { return map[string]any{"detail": s} }

// adminHelp lists the admin endpoints, one a line, for -h.
func adminHelp() string {
	var b strings.Builder
	for _, e := range adminEndpoints {
		fmt.Fprintf(&b, "  %-6s %s%s\n        %s\n", e.method, adminPrefix, e.name, e.doc)
	}
	return b.String()
}

// adminNames are the admin paths, in table order.
func adminNames() []string {
	var names []string
	for _, e := range adminEndpoints {
		if !slices.Contains(names, e.name) {
			names = append(names, e.name)
		}
	}
	return names
}

// adminMethods are the methods an admin path takes, "" for no such path.
func adminMethods(name string) string {
	var methods []string
	for _, e := range adminEndpoints {
		if e.name == name {
			methods = append(methods, e.method)
		}
	}
	return strings.Join(methods, ", ")
}

// withAdmin serves the admin endpoint (adminEndpoints) beside the fake.
func withAdmin(h *kelviqtest.Handler, logf func(format string, args ...any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, adminPrefix) {
			h.ServeHTTP(w, r)
			return
		}
		status, body := admin(h, r)
		name := strings.TrimPrefix(r.URL.Path, adminPrefix)
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", adminMethods(name))
		}
		msg := ""
		if m, ok := body.(map[string]any); ok {
			msg, _ = m["detail"].(string)
		}
		logf("admin %s %s %d %s", r.Method, r.URL.Path, status, msg)
		writeAdmin(w, status, body)
	})
}

func admin(h *kelviqtest.Handler, r *http.Request) (int, any) {
	name := strings.TrimPrefix(r.URL.Path, adminPrefix)
	for _, e := range adminEndpoints {
		if e.name == name && e.method == r.Method {
			return e.serve(h, r)
		}
	}
	// Any other method of an admin path (HEAD and OPTIONS too) is 405.
	if methods := adminMethods(name); methods != "" {
		return http.StatusMethodNotAllowed, detail("method " + r.Method + " is not allowed on " + r.URL.Path + " (it takes " + methods + ")")
	}
	return http.StatusNotFound, detail("no admin endpoint " + r.URL.Path + " (there are " + adminPrefix + strings.Join(adminNames(), ", "+adminPrefix) + "; see kelviq-mock -h)")
}

func postFault(h *kelviqtest.Handler, r *http.Request) (int, any) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxAdminBody))
	if err != nil {
		return http.StatusBadRequest, detail("reading the body: " + err.Error())
	}
	nf, err := decodeFaultRequest(data)
	if err == nil {
		err = h.SetFault(nf.operation, nf.fault)
	}
	if err != nil {
		return http.StatusBadRequest, detail(err.Error())
	}
	return http.StatusOK, detail("fault set on " + nf.operation)
}

// requestsAnswer is the body of GET /__kelviqtest/requests, but for its
// "requests": the recorded requests (filtered), oldest first, in the JSON
// of kelviqtest.Request (credentials redacted).
type requestsAnswer struct {
	// Count is how many are listed; Recorded how many are recorded in all.
	Count    int `json:"count"`
	Recorded int `json:"recorded"`
	// Dropped is how many were dropped to stay within the limits, since
	// the start or the last DELETE.
	Dropped      int   `json:"dropped"`
	MaxRequests  int   `json:"maxRequests"`
	MaxBytes     int64 `json:"maxBytes"`
	RequestBytes int64 `json:"requestBytes"`
}

// requestsList is the answer of GET /__kelviqtest/requests, the
// recordings of some operations (all when ids is empty), written as
// {"requests": [...], "count": …} one request at a time, so that the
// answer never holds the encoding of all of them at once.
type requestsList struct {
	h   *kelviqtest.Handler
	ids []string
}

// readingRequests lets one GET /__kelviqtest/requests copy the recordings
// at a time: each copy can be as large as -max-recorded-bytes, and
// concurrent readers would multiply it.
var readingRequests sync.Mutex

func (l requestsList) writeTo(w io.Writer) error {
	readingRequests.Lock()
	defer readingRequests.Unlock()
	all := l.h.Requests()
	st := l.h.Stats()
	answer := requestsAnswer{Recorded: len(all), Dropped: st.Dropped.Requests,
		MaxRequests: st.Limits.Requests, MaxBytes: st.Limits.RequestBytes, RequestBytes: st.RequestBytes}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"requests":[`)
	for i, r := range all {
		if len(l.ids) > 0 && !slices.Contains(l.ids, r.OperationID) {
			continue
		}
		all[i] = kelviqtest.Request{} // its copy can go once written
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if answer.Count > 0 {
			bw.WriteByte(',')
		}
		answer.Count++
		bw.Write(data)
	}
	tail, _ := json.Marshal(answer)
	bw.WriteString("],")
	bw.Write(tail[1:]) // the answer's fields, after the list
	return bw.Flush()
}

// getRequests answers the recorded requests, filtered by operationId (any
// of the values given; an empty value selects the requests that matched no
// operation). An operationId the spec does not have is 400, naming it: a
// filter with a typo would otherwise answer nothing, as if nothing came.
func getRequests(h *kelviqtest.Handler, r *http.Request) (int, any) {
	q := r.URL.Query()
	for k := range q {
		if k != "operationId" {
			return http.StatusBadRequest, detail(fmt.Sprintf("unknown query parameter %q (the filter is operationId)", k))
		}
	}
	ids := q["operationId"]
	for _, id := range ids {
		if msg := unknownOperation(id); msg != "" {
			return http.StatusBadRequest, detail(msg)
		}
	}
	return http.StatusOK, requestsList{h, ids}
}

// unknownOperation says why id is not an operationId of the spec, "" when
// it is one (or empty: requests that matched no operation).
func unknownOperation(id string) string {
	if id == "" {
		return ""
	}
	for _, op := range api.Operations {
		if op.ID == id {
			return ""
		}
	}
	for _, op := range api.Operations {
		if strings.EqualFold(op.ID, id) || strings.EqualFold(op.GoName, id) {
			return fmt.Sprintf("operationId %q is not an operation of the spec; did you mean %q? (spelled as the spec's operationId)", id, op.ID)
		}
	}
	return fmt.Sprintf("operationId %q is not an operation of the spec (e.g. %q)", id, api.Operations[0].ID)
}

func writeAdmin(w http.ResponseWriter, status int, body any) {
	if l, ok := body.(requestsList); ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		l.writeTo(w) // an error here is the client's going away
		return
	}
	data, err := json.Marshal(body)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"detail":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
