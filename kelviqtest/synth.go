package kelviqtest

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// direction says which side of the wire a synthesised value is for: a
// request never carries readOnly properties, a response never writeOnly ones.
type direction int

const (
	inResponse direction = iota
	inRequest
)

// synthesizer builds a deterministic JSON value (maps, slices, strings,
// float64, bool, nil) for a schema. It prefers what the spec documents
// (the schema's example, its default, its first enum value) when that
// validates, and otherwise derives a value from the type and format. The
// same schema always gives the same value.
type synthesizer struct {
	dir     direction
	minimal bool // only required properties
	opts    []openapi3.SchemaValidationOption
	stack   []*openapi3.Schema // schemas being built, to stop on cycles
}

// maxDepth bounds nesting; deeper optional parts are left out.
const maxDepth = 12

func newSynthesizer(dir direction, minimal bool, formats []openapi3.SchemaValidationOption) *synthesizer {
	s := &synthesizer{dir: dir, minimal: minimal}
	s.opts = append(s.opts, formats...)
	if dir == inRequest {
		s.opts = append(s.opts, openapi3.VisitAsRequest())
	} else {
		s.opts = append(s.opts, openapi3.VisitAsResponse())
	}
	return s
}

// valid reports whether v validates against sch in the synthesizer's direction.
func (s *synthesizer) valid(sch *openapi3.Schema, v any) bool {
	return sch.VisitJSON(v, s.opts...) == nil
}

// synthesize returns a value for sch that validates against it, trying the
// full value (every property) first and the minimal one (required
// properties only) next.
func synthesize(sch *openapi3.Schema, dir direction, formats []openapi3.SchemaValidationOption) (any, error) {
	var last error
	for _, minimal := range []bool{false, true} {
		s := newSynthesizer(dir, minimal, formats)
		v := s.value(sch, "", "$", 0)
		err := sch.VisitJSON(v, s.opts...)
		if err == nil {
			return v, nil
		}
		last = err
	}
	return nil, fmt.Errorf("no synthesised value validates: %w", last)
}

// value builds the value for sch, named name (the property name, for
// readable strings) at JSON path path.
func (s *synthesizer) value(sch *openapi3.Schema, name, path string, depth int) any {
	if sch == nil {
		return "example"
	}
	// What the spec documents comes first.
	if sch.Example != nil && s.valid(sch, sch.Example) {
		return sch.Example
	}
	if sch.Default != nil && s.valid(sch, sch.Default) {
		return sch.Default
	}
	for _, e := range sch.Enum {
		if e != nil && s.valid(sch, e) {
			return e
		}
	}
	if len(sch.Enum) > 0 && sch.Nullable {
		return nil
	}

	if (slices.Contains(s.stack, sch) || depth > maxDepth) && sch.Nullable {
		return nil // a cycle or very deep nesting: the smallest value
	}
	if depth > 2*maxDepth {
		return nil // a cycle through required properties: reported by synthesize
	}
	s.stack = append(s.stack, sch)
	defer func() { s.stack = s.stack[:len(s.stack)-1] }()

	switch {
	case len(sch.AllOf) > 0:
		return s.allOf(sch, name, path, depth)
	case len(sch.OneOf) > 0 || len(sch.AnyOf) > 0:
		for _, branch := range append(slices.Clone(sch.OneOf), sch.AnyOf...) {
			if branch == nil || branch.Value == nil {
				continue
			}
			v := s.value(branch.Value, name, path, depth)
			if s.valid(sch, v) {
				return v
			}
		}
		return nil // no branch gives a valid value: reported by synthesize
	}

	switch typ := schemaType(sch); typ {
	case "object":
		return s.object(sch, path, depth)
	case "array":
		return s.array(sch, name, path, depth)
	case "string":
		return s.str(sch, name, path)
	case "integer":
		return s.number(sch, true)
	case "number":
		return s.number(sch, false)
	case "boolean":
		return true
	default:
		return "example"
	}
}

// schemaType is the schema's single type, or the one its keywords imply.
func schemaType(sch *openapi3.Schema) string {
	if sch.Type != nil {
		for _, t := range sch.Type.Slice() {
			if t != "null" {
				return t
			}
		}
	}
	switch {
	case len(sch.Properties) > 0 || sch.AdditionalProperties.Has != nil || sch.AdditionalProperties.Schema != nil:
		return "object"
	case sch.Items != nil:
		return "array"
	}
	return ""
}

func (s *synthesizer) allOf(sch *openapi3.Schema, name, path string, depth int) any {
	merged := map[string]any{}
	var last any
	objects := true
	for _, part := range sch.AllOf {
		if part == nil || part.Value == nil {
			continue
		}
		v := s.value(part.Value, name, path, depth)
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				merged[k] = x
			}
		} else {
			objects = false
			last = v
		}
	}
	if !objects {
		return last
	}
	if len(sch.Properties) > 0 {
		for k, x := range s.object(sch, path, depth).(map[string]any) {
			merged[k] = x
		}
	}
	return merged
}

func (s *synthesizer) object(sch *openapi3.Schema, path string, depth int) any {
	out := map[string]any{}
	names := make([]string, 0, len(sch.Properties))
	for k := range sch.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		ref := sch.Properties[k]
		if ref == nil || ref.Value == nil {
			continue
		}
		p := ref.Value
		if (s.dir == inRequest && p.ReadOnly) || (s.dir == inResponse && p.WriteOnly) {
			continue
		}
		required := slices.Contains(sch.Required, k)
		if !required && (s.minimal || depth >= maxDepth || slices.Contains(s.stack, p)) {
			continue
		}
		out[k] = s.value(p, k, path+"."+k, depth+1)
	}
	if len(sch.Properties) == 0 {
		if ap := sch.AdditionalProperties.Schema; ap != nil && ap.Value != nil && !s.minimal {
			out["key"] = s.value(ap.Value, "key", path+".key", depth+1)
		}
	}
	return out
}

func (s *synthesizer) array(sch *openapi3.Schema, name, path string, depth int) any {
	n := 1
	if sch.MinItems > 1 {
		n = int(sch.MinItems)
	}
	if sch.MaxItems != nil && uint64(n) > *sch.MaxItems {
		n = int(*sch.MaxItems)
	}
	if sch.Items == nil || sch.Items.Value == nil {
		out := make([]any, n)
		for i := range out {
			out[i] = "example-" + strconv.Itoa(i+1)
		}
		return out
	}
	if (depth >= maxDepth || slices.Contains(s.stack, sch.Items.Value)) && sch.MinItems == 0 {
		return []any{}
	}
	out := make([]any, 0, n)
	for i := range n {
		out = append(out, s.value(sch.Items.Value, singular(name), path+"."+strconv.Itoa(i), depth+1))
	}
	return out
}

func singular(name string) string {
	if strings.HasSuffix(name, "ies") {
		return strings.TrimSuffix(name, "ies") + "y"
	}
	return strings.TrimSuffix(name, "s")
}

// Fixed values for the formats the spec uses: all valid for the formats
// the fake checks and for the Go types the client decodes them into.
const (
	synthDateTime = "2026-01-15T09:30:00Z"
	synthDate     = "2026-01-15"
	synthEmail    = "jane.doe@example.com"
	synthURL      = "https://example.com/kelviqtest"
)

func (s *synthesizer) str(sch *openapi3.Schema, name, path string) any {
	var v string
	switch sch.Format {
	case "uuid":
		v = uuidFor(path)
	case "date-time":
		v = synthDateTime
	case "date":
		v = synthDate
	case "email":
		v = synthEmail
	case "uri", "url", "uri-reference":
		v = synthURL
	case "ipv4":
		v = "192.0.2.10"
	case "ipv6":
		v = "2001:db8::10"
	case "byte":
		v = "a2VsdmlxdGVzdA=="
	default:
		v = "example"
		if name != "" {
			v += "-" + name
		}
	}
	if n := uint64(len(v)); n < sch.MinLength {
		v += strings.Repeat("x", int(sch.MinLength-n))
	}
	if sch.MaxLength != nil && uint64(len(v)) > *sch.MaxLength {
		v = v[:*sch.MaxLength]
	}
	return v
}

// uuidFor is a version 4 shaped UUID derived from path: stable across runs,
// different for different places in a document.
func uuidFor(path string) string {
	h := fnv.New128a()
	h.Write([]byte(path))
	b := h.Sum(nil)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *synthesizer) number(sch *openapi3.Schema, integer bool) any {
	v := 1.0
	if !integer {
		v = 10.5
	}
	if sch.Min != nil {
		lo := *sch.Min
		if sch.ExclusiveMin.IsTrue() {
			if integer {
				lo = math.Floor(lo) + 1
			} else {
				lo += 0.5
			}
		}
		if v < lo {
			v = lo
		}
	}
	if sch.Max != nil {
		hi := *sch.Max
		if sch.ExclusiveMax.IsTrue() {
			if integer {
				hi = math.Ceil(hi) - 1
			} else {
				hi -= 0.5
			}
		}
		if v > hi {
			v = hi
		}
	}
	if integer {
		v = math.Ceil(v)
	}
	return v
}
