package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// schemaExample is one documented example of a component schema or of one
// of its properties, nested as it sits in a body of that schema.
type schemaExample struct {
	schema string // the component schema, the Go model type of that name
	where  string // the path of the example in the schema, for messages
	body   json.RawMessage
}

// Every example of a component schema and of each of its properties, at any
// depth of inline objects and arrays, decodes into the generated type of
// that schema. Prism and kelviq's sandbox build a response from these
// property examples when an operation documents none of its own, so an
// example the generated type rejects (a non-UUID in a format: uuid field, a
// count past int32) fails a real call; TestDocumentedResponseExamplesDecode
// covers only the whole-body examples.
func TestSchemaAndPropertyExamplesDecode(t *testing.T) {
	types := map[string]reflect.Type{}
	for _, m := range modelTypes {
		typ := reflect.TypeOf(m).Elem()
		types[typ.Name()] = typ
	}
	examples, unmapped := schemaExamples(t)
	decoded := 0
	for _, ex := range examples {
		typ, ok := types[ex.schema]
		if !ok {
			continue
		}
		if err := json.Unmarshal(ex.body, reflect.New(typ).Interface()); err != nil {
			t.Errorf("%s: the documented example does not decode into api.%s: %v\nas a body: %s", ex.where, ex.schema, err, ex.body)
		}
		decoded++
	}
	// The spec documents about 500 property examples; a handful means the
	// walk, or the mapping of schema names to Go types, broke.
	if decoded < 400 {
		t.Errorf("decoded %d examples (schemas without a model type: %v): the walk is broken", decoded, unmapped)
	}
	t.Logf("%d schema and property examples decoded", decoded)
}

// schemaExamples reads every example of the component schemas of
// openapi.json, each wrapped in the JSON that puts it where it is documented
// ({"plan":{"product":{"name":<example>}}}), and the names of the schemas
// with examples but no model type (enums, arrays, unions: nothing to decode
// into).
func schemaExamples(t *testing.T) ([]schemaExample, []string) {
	t.Helper()
	data, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	var out []schemaExample
	for _, name := range slices.Sorted(maps.Keys(spec.Components.Schemas)) {
		walkSchemaExamples(t, spec.Components.Schemas[name], name, func(b []byte) []byte { return b }, func(where string, body []byte) {
			out = append(out, schemaExample{schema: name, where: where, body: body})
		})
	}
	types := map[string]bool{}
	for _, m := range modelTypes {
		types[reflect.TypeOf(m).Elem().Name()] = true
	}
	var unmapped []string
	for _, ex := range out {
		if !types[ex.schema] && !slices.Contains(unmapped, ex.schema) {
			unmapped = append(unmapped, ex.schema)
		}
	}
	return out, unmapped
}

// schemaNode is the part of a schema the walk reads.
type schemaNode struct {
	Ref        string                     `json:"$ref"`
	Example    json.RawMessage            `json:"example"`
	Properties map[string]json.RawMessage `json:"properties"`
	Items      json.RawMessage            `json:"items"`
	AllOf      []json.RawMessage          `json:"allOf"`
}

// walkSchemaExamples reports the example of schema and of everything nested
// in it, wrap putting a value where schema sits in the top-level body. A
// $ref stops the walk: the referred component is walked on its own.
func walkSchemaExamples(t *testing.T, raw json.RawMessage, where string, wrap func([]byte) []byte, report func(string, []byte)) {
	var s schemaNode
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if s.Ref != "" {
		return
	}
	if len(s.Example) > 0 {
		report(where+" example", wrap(s.Example))
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		key, _ := json.Marshal(name)
		walkSchemaExamples(t, s.Properties[name], where+"."+name, func(b []byte) []byte {
			return wrap(fmt.Appendf(nil, "{%s:%s}", key, b))
		}, report)
	}
	if len(s.Items) > 0 {
		walkSchemaExamples(t, s.Items, where+"[]", func(b []byte) []byte {
			return wrap(fmt.Appendf(nil, "[%s]", b))
		}, report)
	}
	for i, sub := range s.AllOf {
		walkSchemaExamples(t, sub, fmt.Sprintf("%s.allOf[%d]", where, i), wrap, report)
	}
}

// The walk itself: an example two objects and an array deep is reported
// where it sits, so a wrong type there fails the decode.
func TestWalkSchemaExamplesNests(t *testing.T) {
	schema := json.RawMessage(`{"properties":{"plan":{"properties":{"tiers":{"items":{"properties":{"upTo":{"example":5}}}}}}}}`)
	var got []string
	walkSchemaExamples(t, schema, "S", func(b []byte) []byte { return b }, func(where string, body []byte) {
		got = append(got, where+" "+string(body))
	})
	if want := []string{`S.plan.tiers[].upTo example {"plan":{"tiers":[{"upTo":5}]}}`}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.Contains(got[0], "[{") {
		t.Errorf("the array is lost: %s", got[0])
	}
}
