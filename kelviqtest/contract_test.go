package kelviqtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/kelviq/kelviq-go/api"
)

// The operation table the client is generated with and the spec the fake
// serves list the same operations.
func TestOperationTableMatchesSpec(t *testing.T) {
	s := mustSpec(t)
	if len(s.ops) != len(api.Operations) {
		t.Errorf("the spec has %d operations, api.Operations %d", len(s.ops), len(api.Operations))
	}
	for _, op := range api.Operations {
		sop := s.byID[op.ID]
		if sop == nil {
			t.Errorf("%s: in api.Operations, not in the spec the fake serves", op.ID)
			continue
		}
		if sop.method != op.Method || sop.path != op.Path {
			t.Errorf("%s: api.Operations says %s %s, the spec %s %s", op.ID, op.Method, op.Path, sop.method, sop.path)
		}
		var names []string
		for _, sc := range sop.security {
			names = append(names, sc.name)
		}
		var want []string
		for _, sc := range op.Security {
			want = append(want, string(sc))
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("%s: security %v in the spec, %v in api.Operations", op.ID, names, want)
		}
	}
}

// TestContract calls every operation of api.Operations through
// kelviq.Client against the fake, stateless and stateful: every request
// must validate against the spec, and every response must validate against
// it and decode into the generated type.
func TestContract(t *testing.T) {
	for _, stateful := range []bool{false, true} {
		name := "stateless"
		if stateful {
			name = "stateful"
		}
		t.Run(name, func(t *testing.T) { runContract(t, stateful) })
	}
}

func runContract(t *testing.T, stateful bool) {
	s := mustSpec(t)
	shared := NewServer(t, WithStateless())
	passed := 0
	for _, op := range api.Operations {
		ok := t.Run(op.ID, func(t *testing.T) {
			sop := s.byID[op.ID]
			if sop == nil {
				t.Fatalf("not in the spec")
			}
			srv, smp := shared, sop.sample
			if stateful {
				srv, smp = contractServer(t, sop)
			}
			client := reflect.ValueOf(newClient(t, srv))
			res := callOperation(t, client, op, smp)
			received := lastRequest(t, srv.Handler, op.ID)
			if received.Problem != "" || received.Status != sop.success.status {
				t.Fatalf("the fake answered %d (%s), want %d: the request does not validate against the spec",
					received.Status, received.Problem, sop.success.status)
			}
			checkResult(t, srv, sop, res, stateful && statefulOps[op.ID] != nil)
		})
		if ok {
			passed++
		}
	}
	t.Logf("contract: %d of %d operations called through kelviq.Client: requests valid, responses decoded", passed, len(api.Operations))
	if passed != len(api.Operations) {
		t.Errorf("contract: only %d of %d operations pass", passed, len(api.Operations))
	}
}

// contractServer is a stateful fake holding the objects the operation's
// sample names by path (seeded, or created first for checkout sessions),
// and the sample to send to it.
func contractServer(t *testing.T, op *operation) (*Server, *sample) {
	t.Helper()
	s := mustSpec(t)
	seed := map[string]any{
		"customers": []any{map[string]any{"customerId": s.byID["updateCustomer"].sample.path["customerId"]}},
		"entitlements": []any{map[string]any{
			"customerId":  s.byID["getCustomerEntitlements"].sample.query["customer_id"],
			"featureId":   s.byID["getCustomerEntitlements"].sample.query["feature_id"],
			"featureType": "METER", "hasAccess": true, "hardLimit": true, "usageLimit": 3, "currentUsage": 1,
		}},
	}
	if op.id != "provisionPartnerOrganization" { // it would provision the seeded one again
		seed["partnerOrganizations"] = []any{map[string]any{
			"organizationIdentifier": s.byID["retrievePartnerOrganization"].sample.path["identifier"],
			"partnerExternalId":      s.byID["retrievePartnerOrganizationByExternalId"].sample.path["externalId"],
		}}
	}
	data, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(t, WithSeed(bytes.NewReader(data)))
	smp := op.sample
	if _, ok := smp.path["session_id"]; ok {
		res, err := newClient(t, srv).CreateCheckoutSessionWithResponse(context.Background(), api.CreateCheckoutSessionJSONRequestBody{
			PlanIdentifier: "plan-pro-monthly", SuccessURL: "https://example.com/ok",
			ChargePeriod: api.CreateCheckoutSessionRequestChargePeriodMONTHLY,
		})
		if err != nil || res.JSON201 == nil || res.JSON201.CheckoutSessionID == nil {
			t.Fatalf("creating a checkout session: %v", err)
		}
		smp = &sample{path: maps.Clone(smp.path), query: smp.query, body: smp.body}
		smp.path["session_id"] = *res.JSON201.CheckoutSessionID
	}
	return srv, smp
}

func mustSpec(t testing.TB) *spec {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// callOperation calls the operation's <GoName>WithResponse method, or
// <GoName>WithBodyWithResponse with the sample's JSON body, filling path
// parameters (in template order) and every query parameter from the
// sample. It returns the result struct.
func callOperation(t *testing.T, client reflect.Value, op api.Operation, smp *sample) reflect.Value {
	t.Helper()
	name := op.GoName + "WithResponse"
	if op.HasBody {
		name = op.GoName + "WithBodyWithResponse"
	}
	m := client.MethodByName(name)
	if !m.IsValid() {
		t.Fatalf("kelviq.Client has no method %s", name)
	}
	mt := m.Type()
	args := []reflect.Value{reflect.ValueOf(context.Background())}
	i := 1

	for _, match := range pathParam.FindAllStringSubmatch(op.Path, -1) {
		v, ok := smp.path[match[1]]
		if !ok {
			t.Fatalf("no sample value for path parameter %s", match[1])
		}
		args = append(args, convert(t, v, mt.In(i)))
		i++
	}

	paramsType := mt.In(i)
	if paramsType.Kind() == reflect.Pointer && paramsType.Elem().Kind() == reflect.Struct && strings.HasSuffix(paramsType.Elem().Name(), "Params") {
		params := reflect.New(paramsType.Elem())
		st := paramsType.Elem()
		filled := map[string]bool{}
		for f := range st.NumField() {
			field := st.Field(f)
			qname, _, _ := strings.Cut(field.Tag.Get("form"), ",")
			v, ok := smp.query[qname]
			if !ok {
				t.Fatalf("%s.%s: no sample value for query parameter %q", st.Name(), field.Name, qname)
			}
			params.Elem().Field(f).Set(convert(t, v, field.Type))
			filled[qname] = true
		}
		if len(filled) != len(smp.query) {
			t.Fatalf("%s has %d query fields, the spec %d query parameters", st.Name(), len(filled), len(smp.query))
		}
		args = append(args, params)
		i++
	} else if len(smp.query) > 0 {
		t.Fatalf("the spec has query parameters, %s no params argument", name)
	}

	if op.HasBody {
		if smp.body == nil {
			t.Fatalf("the operation takes a body and the sample has none")
		}
		body, err := json.Marshal(smp.body)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, reflect.ValueOf("application/json"), reflect.ValueOf(io.Reader(bytes.NewReader(body))))
		i += 2
	}
	if !mt.IsVariadic() || i != mt.NumIn()-1 {
		t.Fatalf("%s: unexpected signature %s", name, mt)
	}

	out := m.Call(args)
	if err, _ := out[1].Interface().(error); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out[0]
}

// convert turns a sample value into a value of type typ through JSON, the
// way a user's value of that type would hold it.
func convert(t *testing.T, v any, typ reflect.Type) reflect.Value {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := reflect.New(typ)
	if err := json.Unmarshal(data, p.Interface()); err != nil {
		t.Fatalf("sample value %s does not decode into %s: %v", data, typ, err)
	}
	return p.Elem()
}

// lastRequest is the last request the fake received for the operation.
func lastRequest(t *testing.T, h *Handler, id string) Request {
	t.Helper()
	reqs := h.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].OperationID == id {
			return reqs[i]
		}
	}
	t.Fatalf("the fake received no request for %s", id)
	return Request{}
}

// checkResult checks that the response arrived with the status the fake
// sent, validates against the spec, and decoded into the generated
// JSON<status> field; the body must also decode strictly (no field the
// generated type lacks).
func checkResult(t *testing.T, srv *Server, sop *operation, res reflect.Value, fromState bool) {
	t.Helper()
	r := res.Elem()
	httpRes, _ := r.FieldByName("HTTPResponse").Interface().(*http.Response)
	body, _ := r.FieldByName("Body").Interface().([]byte)
	if httpRes == nil {
		t.Fatal("no HTTPResponse in the result")
	}
	status := httpRes.StatusCode

	if sop.success.location {
		checkRedirect(t, srv, sop, r, httpRes, body)
		return
	}
	if status != sop.success.status {
		t.Fatalf("status %d, want %d", status, sop.success.status)
	}
	validateResponse(t, sop, status, httpRes.Header, body)

	field := r.FieldByName("JSON" + strconv.Itoa(status))
	if len(sop.success.body) == 0 {
		if len(body) != 0 {
			t.Fatalf("a body on a %d response", status)
		}
		if field.IsValid() {
			t.Fatalf("the generated result has JSON%d, and the fake sent no body", status)
		}
		return
	}
	if jsonSchema(sop.route.Operation.Responses.Status(status).Value.Content) == nil {
		// Exception: the spec declares this JSON body without a schema
		// (listed by TestSpecDefects), so the generated result has no
		// JSON<status> field; the body is in Body.
		if field.IsValid() {
			t.Fatalf("the spec has no schema for the %d body, yet the result has JSON%d", status, status)
		}
		if !json.Valid(body) {
			t.Fatalf("the %d body is not JSON", status)
		}
		t.Logf("exception: the spec declares the %d body without a schema: checked as raw JSON in Body", status)
		return
	}
	if !field.IsValid() {
		t.Fatalf("the generated result has no JSON%d field for the %d-byte body", status, len(body))
	}
	if field.IsNil() {
		t.Fatalf("JSON%d is nil: the body did not decode", status)
	}
	if sop.success.source != "synthesised" && !fromState {
		// The spec's own examples may carry properties their schema does
		// not declare (listed by TestSpecDefects); the generated types
		// drop those, so only synthesised bodies and the fake's own
		// objects decode strictly.
		return
	}
	strict := reflect.New(field.Type().Elem())
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(strict.Interface()); err != nil {
		t.Fatalf("the body does not decode strictly into %s: %v", field.Type().Elem(), err)
	}
}

// checkRedirect checks the answer of an operation whose success is a
// redirect (the plan file download): the client returns the 302 itself,
// with the parsed Location pointing at the file the fake serves.
func checkRedirect(t *testing.T, srv *Server, sop *operation, r reflect.Value, httpRes *http.Response, body []byte) {
	t.Helper()
	if httpRes.StatusCode != sop.success.status {
		t.Fatalf("status %d, want %d (the client must not follow the redirect)", httpRes.StatusCode, sop.success.status)
	}
	validateResponse(t, sop, httpRes.StatusCode, httpRes.Header, body)
	headers := r.FieldByName(fmt.Sprintf("Headers%d", sop.success.status))
	if !headers.IsValid() || headers.IsNil() {
		t.Fatalf("the generated result has no parsed Headers%d", sop.success.status)
	}
	loc, _ := headers.Elem().FieldByName("Location").Interface().(*string)
	if want := srv.URL + filesPath + "/"; loc == nil || !strings.HasPrefix(*loc, want) {
		t.Fatalf("Location %v, want a URL starting %s", loc, want)
	}
}

// validateResponse checks a response against the spec with openapi3filter.
func validateResponse(t *testing.T, sop *operation, status int, header http.Header, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(sop.method, "http://kelviqtest.invalid"+sop.path, nil)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: &sop.route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, SchemaValidationOptions: formatValidators()},
	}
	if status == http.StatusNoContent && len(body) == 0 {
		// Five DELETEs declare a JSON body on their 204 (a spec defect,
		// see TestSpecDefects): a 204 has none, so only status and
		// headers are checked.
		in.Options.ExcludeResponseBody = true
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("the %d response does not validate against the spec: %v", status, err)
	}
}
