package kelviqtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	kelviqgo "github.com/kelviq/kelviq-go"
)

// spec is the vendored OpenAPI document, loaded, indexed and with every
// response precomputed. It is built once per process and never modified
// afterwards, so every Handler shares it.
type spec struct {
	doc     *openapi3.T
	ops     []*operation // sorted by path, then method
	byID    map[string]*operation
	router  *router
	formats []openapi3.SchemaValidationOption
	defects []string // defects of the spec the fake works around

	allSchemes []scheme // the spec's security schemes, by name
}

// operation is one operation of the spec, ready to serve.
type operation struct {
	id     string
	method string
	path   string // the template, e.g. "/customers/{customerId}/"

	// route is what openapi3filter validates against. Its Operation is a
	// copy of the spec's with security removed: the handler checks
	// credentials itself, before validation.
	route routers.Route

	// security lists the schemes the operation accepts, any one of them;
	// empty: the operation takes no credential.
	security []scheme

	success *cannedResponse         // the default answer
	byCode  map[int]*cannedResponse // every declared status

	badRequest errorShape // how this operation's 400 bodies look

	sample *sample // a valid request
}

// scheme is a security scheme of the spec.
type scheme struct {
	name   string
	bearer bool   // http bearer (Authorization: Bearer …)
	header string // apiKey in this header
}

// cannedResponse is a precomputed answer.
type cannedResponse struct {
	status int
	body   []byte // nil: no body
	source string // where the body comes from, for reports
	// location: the response declares a Location header (a redirect); the
	// handler points it at a file served by the fake itself.
	location bool
}

// errorShape is one of the three shapes of kelviq's error bodies.
type errorShape int

const (
	shapeFieldErrors   errorShape = iota // {"error": …, "<field>": ["…"]}
	shapeDetail                          // {"detail": …}
	shapeStatusMessage                   // {"status": …, "message": …}
)

// uuidPattern accepts what the client's UUID type (github.com/google/uuid)
// accepts in JSON: 32 hex digits in 8-4-4-4-12 groups, any version.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// emailPattern is kin-openapi's loose e-mail check.
var emailPattern = regexp.MustCompile(openapi3.FormatOfStringForEmail)

// formatValidators are the string formats the fake checks besides
// kin-openapi's defaults (date, date-time, byte). They are scoped to the
// fake's own validations: kin-openapi's global format registry is left alone.
func formatValidators() []openapi3.SchemaValidationOption {
	check := func(re *regexp.Regexp, what string) openapi3.StringFormatValidator {
		return openapi3.NewCallbackValidator(func(v string) error {
			if !re.MatchString(v) {
				return errors.New("not " + what)
			}
			return nil
		})
	}
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
			"uuid":  check(uuidPattern, "a UUID"),
			"email": check(emailPattern, "an e-mail address"),
		}),
	}
}

var (
	sharedSpec     *spec
	sharedSpecErr  error
	sharedSpecOnce sync.Once
)

// loadSpec returns the process's spec, building it on first use.
func loadSpec() (*spec, error) {
	sharedSpecOnce.Do(func() {
		sharedSpec, sharedSpecErr = buildSpec(kelviqgo.OpenAPISpec)
	})
	return sharedSpec, sharedSpecErr
}

// buildSpec loads, checks and indexes an OpenAPI document and precomputes
// the response of every declared status of every operation.
func buildSpec(data []byte) (*spec, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("kelviqtest: loading the spec: %w", err)
	}
	// The upstream spec has an example that does not validate (see
	// SpecDefects); the fake checks every example itself, below.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("kelviqtest: the spec is not valid OpenAPI: %w", err)
	}

	s := &spec{doc: doc, byID: map[string]*operation{}, formats: formatValidators()}
	schemes := map[string]scheme{}
	if doc.Components != nil {
		for name, ref := range doc.Components.SecuritySchemes {
			if ref == nil || ref.Value == nil {
				continue
			}
			v := ref.Value
			sc := scheme{name: name}
			switch {
			case v.Type == "http" && strings.EqualFold(v.Scheme, "bearer"):
				sc.bearer = true
			case v.Type == "apiKey" && v.In == "header":
				sc.header = http.CanonicalHeaderKey(v.Name)
			default:
				return nil, fmt.Errorf("kelviqtest: security scheme %q (%s) is not supported", name, v.Type)
			}
			schemes[name] = sc
			s.allSchemes = append(s.allSchemes, sc)
		}
	}
	slices.SortFunc(s.allSchemes, func(a, b scheme) int { return strings.Compare(a.name, b.name) })

	paths := doc.Paths.Map()
	pathKeys := make([]string, 0, len(paths))
	for p := range paths {
		pathKeys = append(pathKeys, p)
	}
	slices.Sort(pathKeys)
	for _, p := range pathKeys {
		item := paths[p]
		methods := make([]string, 0, 4)
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, m := range methods {
			op, err := s.newOperation(p, m, item, item.GetOperation(m), schemes)
			if err != nil {
				return nil, err
			}
			if _, dup := s.byID[op.id]; dup {
				return nil, fmt.Errorf("kelviqtest: operationId %q is used twice", op.id)
			}
			s.ops = append(s.ops, op)
			s.byID[op.id] = op
		}
	}
	s.router = newRouter(s.ops)
	for _, op := range s.ops {
		if op.sample, err = s.buildSample(op); err != nil {
			return nil, err
		}
	}
	s.checkSchemaExamples()
	return s, nil
}

func (s *spec) newOperation(path, method string, item *openapi3.PathItem, o *openapi3.Operation, schemes map[string]scheme) (*operation, error) {
	op := &operation{id: o.OperationID, method: method, path: path, byCode: map[int]*cannedResponse{}}
	if op.id == "" {
		return nil, fmt.Errorf("kelviqtest: %s %s has no operationId", method, path)
	}

	// Security: the operation's own, else the document's. Any one
	// requirement satisfies it; kelviq's requirements name one scheme each.
	reqs := s.doc.Security
	if o.Security != nil {
		reqs = *o.Security
	}
	for _, req := range reqs {
		if len(req) != 1 {
			return nil, fmt.Errorf("kelviqtest: %s: a security requirement naming %d schemes is not supported", op.id, len(req))
		}
		for name := range req {
			sc, ok := schemes[name]
			if !ok {
				return nil, fmt.Errorf("kelviqtest: %s: security scheme %q is not declared", op.id, name)
			}
			op.security = append(op.security, sc)
		}
	}

	noSecurity := openapi3.SecurityRequirements{}
	validated := *o
	validated.Security = &noSecurity
	op.route = routers.Route{Spec: s.doc, Path: path, PathItem: item, Method: method, Operation: &validated}

	// Responses: every declared status, precomputed.
	codes := []int{}
	for key, ref := range o.Responses.Map() {
		code, err := strconv.Atoi(key)
		if err != nil || ref == nil || ref.Value == nil {
			continue // "default" or "2XX": not served unless asked by status
		}
		codes = append(codes, code)
	}
	sort.Ints(codes)
	for _, code := range codes {
		c, err := s.cannedFor(op, code, o.Responses.Status(code).Value)
		if err != nil {
			return nil, err
		}
		op.byCode[code] = c
	}
	for _, class := range []int{200, 300} {
		for _, code := range codes {
			if code >= class && code < class+100 {
				op.success = op.byCode[code]
				break
			}
		}
		if op.success != nil {
			break
		}
	}
	if op.success == nil {
		return nil, fmt.Errorf("kelviqtest: %s declares no 2xx or 3xx response", op.id)
	}

	op.badRequest = shapeFieldErrors
	if c := op.byCode[http.StatusBadRequest]; c != nil {
		if sch := jsonSchema(o.Responses.Status(http.StatusBadRequest).Value.Content); sch != nil {
			switch {
			case sch.Properties["detail"] != nil:
				op.badRequest = shapeDetail
			case sch.Properties["message"] != nil:
				op.badRequest = shapeStatusMessage
			}
		}
	}
	return op, nil
}

// jsonSchema is the schema of the JSON media type of content, or nil.
func jsonSchema(content openapi3.Content) *openapi3.Schema {
	mt := content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// cannedFor precomputes the response for one declared status: the first
// documented example that validates against the response schema (examples
// by name, in order), else a value synthesised from the schema. Examples
// that do not validate are recorded as defects of the spec.
func (s *spec) cannedFor(op *operation, code int, resp *openapi3.Response) (*cannedResponse, error) {
	c := &cannedResponse{status: code, source: "no body"}
	if h := resp.Headers["Location"]; h != nil && code >= 300 && code < 400 {
		c.location = true
	}
	if code == http.StatusNoContent || code == http.StatusNotModified || (code >= 100 && code < 200) {
		if len(resp.Content) > 0 {
			s.defects = append(s.defects, fmt.Sprintf("%s %d: declares a body (%s) on a response that has none by definition; the fake sends none",
				op.id, code, strings.Join(contentTypes(resp.Content), ", ")))
		}
		return c, nil
	}
	mt := resp.Content.Get("application/json")
	if mt == nil {
		if len(resp.Content) > 0 {
			return nil, fmt.Errorf("kelviqtest: %s %d: only application/json responses are supported, not %s", op.id, code, strings.Join(contentTypes(resp.Content), ", "))
		}
		return c, nil
	}
	var sch *openapi3.Schema
	if mt.Schema != nil {
		sch = mt.Schema.Value
	}
	opts := append(slices.Clone(s.formats), openapi3.VisitAsResponse())

	type candidate struct {
		name  string
		value any
	}
	var candidates []candidate
	if mt.Example != nil {
		candidates = append(candidates, candidate{"example", mt.Example})
	}
	names := make([]string, 0, len(mt.Examples))
	for name := range mt.Examples {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if ref := mt.Examples[name]; ref != nil && ref.Value != nil && ref.Value.Value != nil {
			candidates = append(candidates, candidate{fmt.Sprintf("example %q", name), ref.Value.Value})
		}
	}
	if sch == nil {
		s.defects = append(s.defects, fmt.Sprintf("%s %d: declares an application/json body without a schema; the generated client cannot type it", op.id, code))
	}
	var chosen *candidate
	for i := range candidates {
		cand := &candidates[i]
		if sch != nil {
			if err := sch.VisitJSON(cand.value, opts...); err != nil {
				s.defects = append(s.defects, fmt.Sprintf("%s %d: %s does not validate against its schema: %s", op.id, code, cand.name, schemaReason(err)))
				continue
			}
			if extra := undeclared(sch, cand.value, ""); len(extra) > 0 {
				s.defects = append(s.defects, fmt.Sprintf("%s %d: %s has properties its schema does not declare (the generated types drop them): %s", op.id, code, cand.name, strings.Join(extra, ", ")))
			}
		}
		if chosen == nil {
			chosen = cand
		}
	}
	var value any
	switch {
	case chosen != nil:
		value, c.source = chosen.value, chosen.name
	case sch != nil:
		v, err := synthesize(sch, inResponse, s.formats)
		if err != nil {
			return nil, fmt.Errorf("kelviqtest: %s %d: %w", op.id, code, err)
		}
		value, c.source = v, "synthesised"
	default:
		value, c.source = map[string]any{}, "empty object (no schema)"
	}
	value = endPagination(value)
	body, err := marshal(value)
	if err != nil {
		return nil, fmt.Errorf("kelviqtest: %s %d: %w", op.id, code, err)
	}
	c.body = body
	return c, nil
}

// endPagination makes a page the only one: a list response whose next or
// previous link names another page would send a page iterator to kelviq's
// real hosts, and a count other than the number of results would promise
// pages that do not exist. kelviq's list bodies are {count, next,
// previous, results}.
func endPagination(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if _, isPage := m["results"]; !isPage {
		return v
	}
	results, _ := m["results"].([]any)
	count, _ := m["count"].(float64)
	changed := count != float64(len(results))
	for _, k := range []string{"next", "previous"} {
		if x, ok := m[k]; ok && x != nil {
			changed = true
		}
	}
	if !changed {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
	}
	for _, k := range []string{"next", "previous"} {
		if _, ok := out[k]; ok {
			out[k] = nil
		}
	}
	if _, ok := out["count"]; ok {
		out["count"] = float64(len(results))
	}
	return out
}

func contentTypes(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// schemaReason is a one-line description of a schema validation error:
// where (a JSON path) and why, without the offending value.
func schemaReason(err error) string {
	field, reason := schemaErrorField(err)
	if field == "" {
		return reason
	}
	return field + ": " + reason
}

var spaces = regexp.MustCompile(`\s+`)

// oneLine collapses whitespace so a message fits on one line.
func oneLine(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }
