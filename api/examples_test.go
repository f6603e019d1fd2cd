package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

// responseExample is one documented example of a JSON response of the spec.
type responseExample struct {
	op     api.Operation
	status int
	where  string // where in the spec, for messages
	body   json.RawMessage
}

// Every documented example of a JSON response in the spec (a media type's
// example or examples, and the example of the schema it refers to; not those
// of a response declaring no schema, which has no generated type) decodes
// into its generated type: served by a loopback server and read by the
// generated client's <Op>WithResponse, the call succeeds and the JSONnnn
// field of that status is set. kelviq's sandbox and Prism serve these
// examples, so one that does not decode fails a real call.
func TestDocumentedResponseExamplesDecode(t *testing.T) {
	examples := documentedResponseExamples(t)
	if len(examples) < 25 {
		t.Fatalf("found %d response examples: the walk of openapi.json is broken", len(examples))
	}

	var current responseExample
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(current.status)
		w.Write(current.body)
	}))
	defer srv.Close()
	client, err := api.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		current = ex // the client calls the server synchronously
		res, err := callWithZeroArgs(client, ex.op.GoName+"WithResponse")
		if err != nil {
			t.Errorf("%s: %v\nexample: %s", ex.where, err, ex.body)
			continue
		}
		field := reflect.ValueOf(res).Elem().FieldByName("JSON" + strconv.Itoa(ex.status))
		if !field.IsValid() {
			t.Errorf("%s: %T has no field JSON%d", ex.where, res, ex.status)
		} else if field.IsNil() {
			t.Errorf("%s: JSON%d is nil after decoding %s", ex.where, ex.status, ex.body)
		}
	}
	t.Logf("%d response examples decoded", len(examples))
}

// callWithZeroArgs calls a method of the client with a background context,
// zero values for every other argument (path parameters, params, body) and
// no request editors, returning its result.
func callWithZeroArgs(client *api.ClientWithResponses, method string) (any, error) {
	m := reflect.ValueOf(client).MethodByName(method)
	if !m.IsValid() {
		return nil, fmt.Errorf("no method %s", method)
	}
	args := []reflect.Value{reflect.ValueOf(context.Background())}
	for i := 1; i < m.Type().NumIn()-1; i++ { // the last one is ...RequestEditorFn
		args = append(args, reflect.Zero(m.Type().In(i)))
	}
	out := m.Call(args)
	if err, _ := out[1].Interface().(error); err != nil {
		return nil, err
	}
	return out[0].Interface(), nil
}

// documentedResponseExamples reads the examples of JSON responses from
// openapi.json (plain JSON: package api's tests do not load kin-openapi).
func documentedResponseExamples(t *testing.T) []responseExample {
	t.Helper()
	data, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	type mediaType struct {
		Schema   json.RawMessage `json:"schema"`
		Example  json.RawMessage `json:"example"`
		Examples map[string]struct {
			Ref   string          `json:"$ref"`
			Value json.RawMessage `json:"value"`
		} `json:"examples"`
	}
	type operation struct {
		OperationID string `json:"operationId"`
		Responses   map[string]struct {
			Content map[string]mediaType `json:"content"`
		} `json:"responses"`
	}
	var spec struct {
		// A path item holds its operations and its parameters.
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Example json.RawMessage `json:"example"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	var out []responseExample
	for _, op := range api.Operations {
		var item operation
		if err := json.Unmarshal(spec.Paths[op.Path][strings.ToLower(op.Method)], &item); err != nil || item.OperationID != op.ID {
			t.Fatalf("%s %s: operationId %q in openapi.json (%v), %q in the table", op.Method, op.Path, item.OperationID, err, op.ID)
		}
		for code, resp := range item.Responses {
			status, err := strconv.Atoi(code)
			if err != nil {
				continue // "default": no JSONnnn field
			}
			if op.Method == http.MethodDelete && status == http.StatusNoContent {
				continue // the overlay drops the body declared on these 204s (see api/overlay.yaml)
			}
			for ct, mt := range resp.Content {
				if !strings.Contains(ct, "json") || len(mt.Schema) == 0 {
					continue // without a schema there is no generated type (no JSONnnn field)
				}
				var schemaRef struct {
					Ref string `json:"$ref"`
				}
				if err := json.Unmarshal(mt.Schema, &schemaRef); err != nil {
					t.Fatal(err)
				}
				where := fmt.Sprintf("%s %d %s", op.ID, status, ct)
				add := func(what string, body json.RawMessage) {
					if len(body) > 0 {
						out = append(out, responseExample{op: op, status: status, where: where + " " + what, body: body})
					}
				}
				add("example", mt.Example)
				for _, name := range slices.Sorted(maps.Keys(mt.Examples)) {
					if mt.Examples[name].Ref != "" {
						t.Fatalf("%s: example %s is a $ref: resolve components.examples here", where, name)
					}
					add("examples."+name, mt.Examples[name].Value)
				}
				if schema, ok := strings.CutPrefix(schemaRef.Ref, "#/components/schemas/"); ok {
					add("schema "+schema+" example", spec.Components.Schemas[schema].Example)
				}
			}
		}
	}
	return out
}
