package kelviqtest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// sample is a request to an operation that validates against the spec:
// the spec's examples where they validate, synthesised values elsewhere.
// The tests send it through the client; it also documents what a valid
// request looks like.
type sample struct {
	path  map[string]any // every path parameter
	query map[string]any // every query parameter
	body  any            // nil when the operation takes no body
}

// parameters lists an operation's parameters: the path item's, overridden
// by the operation's own of the same name and location.
func parameters(op *operation) openapi3.Parameters {
	var out openapi3.Parameters
	own := op.route.Operation.Parameters
	for _, ref := range op.route.PathItem.Parameters {
		if own.GetByInAndName(ref.Value.In, ref.Value.Name) == nil {
			out = append(out, ref)
		}
	}
	return append(out, own...)
}

// buildSample makes the sample of op. Documented examples that do not
// validate are recorded as defects.
func (s *spec) buildSample(op *operation) (*sample, error) {
	smp := &sample{path: map[string]any{}, query: map[string]any{}}
	for _, ref := range parameters(op) {
		p := ref.Value
		if p.Schema == nil || p.Schema.Value == nil {
			continue
		}
		sch := p.Schema.Value
		var v any
		switch {
		case p.Example != nil && sch.VisitJSON(p.Example, s.formats...) == nil:
			v = p.Example
		default:
			if p.Example != nil {
				s.defects = append(s.defects, fmt.Sprintf("%s: the example of the %s parameter %q does not validate against its schema", op.id, p.In, p.Name))
			}
			var err error
			if v, err = synthesize(sch, inRequest, s.formats); err != nil {
				return nil, fmt.Errorf("kelviqtest: %s: parameter %q: %w", op.id, p.Name, err)
			}
		}
		switch p.In {
		case openapi3.ParameterInPath:
			smp.path[p.Name] = v
		case openapi3.ParameterInQuery:
			smp.query[p.Name] = v
		default:
			return nil, fmt.Errorf("kelviqtest: %s: %s parameters are not supported", op.id, p.In)
		}
	}

	rb := op.route.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return smp, nil
	}
	mt := rb.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("kelviqtest: %s: only application/json request bodies with a schema are supported", op.id)
	}
	sch := mt.Schema.Value
	opts := append(slices.Clone(s.formats), openapi3.VisitAsRequest())
	type candidate struct {
		name  string
		value any
	}
	var cands []candidate
	if mt.Example != nil {
		cands = append(cands, candidate{"example", mt.Example})
	}
	for _, name := range sortedKeys(mt.Examples) {
		if ref := mt.Examples[name]; ref != nil && ref.Value != nil && ref.Value.Value != nil {
			cands = append(cands, candidate{fmt.Sprintf("example %q", name), ref.Value.Value})
		}
	}
	for _, c := range cands {
		if err := sch.VisitJSON(c.value, opts...); err != nil {
			s.defects = append(s.defects, fmt.Sprintf("%s request body: %s does not validate against its schema: %s", op.id, c.name, schemaReason(err)))
			continue
		}
		if extra := undeclared(sch, c.value, ""); len(extra) > 0 {
			s.defects = append(s.defects, fmt.Sprintf("%s request body: %s has properties its schema does not declare: %s", op.id, c.name, strings.Join(extra, ", ")))
		}
		if smp.body == nil {
			smp.body = c.value
		}
	}
	if smp.body == nil {
		v, err := synthesize(sch, inRequest, s.formats)
		if err != nil {
			return nil, fmt.Errorf("kelviqtest: %s request body: %w", op.id, err)
		}
		smp.body = v
	}
	return smp, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkSchemaExamples records the examples written into the spec's
// component schemas (at any depth of inline schemas) that do not validate
// against the schema they document. The synthesiser skips them.
func (s *spec) checkSchemaExamples() {
	if s.doc.Components == nil {
		return
	}
	for _, name := range sortedKeys(s.doc.Components.Schemas) {
		ref := s.doc.Components.Schemas[name]
		if ref != nil && ref.Value != nil {
			s.checkSchemaExample("components.schemas."+name, ref.Value)
		}
	}
}

func (s *spec) checkSchemaExample(path string, sch *openapi3.Schema) {
	if sch.Example != nil {
		if err := sch.VisitJSON(sch.Example, s.formats...); err != nil {
			s.defects = append(s.defects, fmt.Sprintf("%s: its example does not validate against it: %s", path, schemaReason(err)))
		} else if extra := undeclared(sch, sch.Example, ""); len(extra) > 0 {
			s.defects = append(s.defects, fmt.Sprintf("%s: its example has properties it does not declare: %s", path, strings.Join(extra, ", ")))
		}
	}
	// Only inline schemas: a $ref'd component is checked under its own name.
	inline := func(suffix string, ref *openapi3.SchemaRef) {
		if ref != nil && ref.Ref == "" && ref.Value != nil {
			s.checkSchemaExample(path+suffix, ref.Value)
		}
	}
	for _, k := range sortedKeys(sch.Properties) {
		inline(".properties."+k, sch.Properties[k])
	}
	inline(".items", sch.Items)
	inline(".additionalProperties", sch.AdditionalProperties.Schema)
	for kw, refs := range map[string]openapi3.SchemaRefs{"allOf": sch.AllOf, "oneOf": sch.OneOf, "anyOf": sch.AnyOf} {
		for i, ref := range refs {
			inline(fmt.Sprintf(".%s.%d", kw, i), ref)
		}
	}
}

// pathFor fills a path template with a sample's path parameters.
func (smp *sample) pathFor(template string) string {
	out := template
	for name, v := range smp.path {
		out = strings.ReplaceAll(out, "{"+name+"}", fmt.Sprint(v))
	}
	return out
}

// undeclared lists the object properties of v, at any depth, that its
// schema does not declare although it declares others, e.g. an example
// carrying a field the schema forgot. Such a value validates (extra
// properties are allowed unless additionalProperties says otherwise), but
// the generated types drop the field. Branches of oneOf/anyOf are not
// followed.
func undeclared(sch *openapi3.Schema, v any, path string) []string {
	if sch == nil {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.Schema{}
		collectProperties(sch, props)
		if len(props) == 0 || sch.AdditionalProperties.Has != nil || sch.AdditionalProperties.Schema != nil {
			return nil
		}
		var out []string
		for _, k := range sortedKeys(x) {
			p, ok := props[k]
			if !ok {
				out = append(out, joinPath(path, k))
				continue
			}
			out = append(out, undeclared(p, x[k], joinPath(path, k))...)
		}
		return out
	case []any:
		if sch.Items == nil {
			return nil
		}
		var out []string
		for _, item := range x {
			for _, p := range undeclared(sch.Items.Value, item, path+"[]") {
				if !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
		return out
	}
	return nil
}

// collectProperties gathers the properties a schema declares, its allOf
// branches' included.
func collectProperties(sch *openapi3.Schema, into map[string]*openapi3.Schema) {
	for k, ref := range sch.Properties {
		if ref != nil && ref.Value != nil {
			into[k] = ref.Value
		}
	}
	for _, ref := range sch.AllOf {
		if ref != nil && ref.Value != nil {
			collectProperties(ref.Value, into)
		}
	}
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
