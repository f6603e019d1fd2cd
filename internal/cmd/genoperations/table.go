package main

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Table is everything the generated file holds.
type Table struct {
	Schemes    []Scheme
	Operations []Operation
	Core       Servers // the spec's top-level servers
}

// Scheme is one entry of components.securitySchemes that the table names.
type Scheme struct {
	Name   string // key in components.securitySchemes
	Type   string // "http" or "apiKey"
	Scheme string // for http: "bearer"
	In     string // for apiKey: "header"
	Header string // for apiKey: the header name
}

// Servers are the base URLs of one operation per environment.
type Servers struct {
	Production string
	Sandbox    string
}

// Operation is one row of the table.
type Operation struct {
	ID        string
	GoName    string
	Method    string
	Path      string
	Security  []string // scheme names, alternatives; empty means none
	Servers   Servers
	Edge      bool // its servers are not the top-level (core) ones
	Paginated bool
	HasBody   bool
	// Success lists the statuses the spec declares for a successful answer
	// (2xx and 3xx), ascending.
	Success []int
	// JSONSuccess lists those of Success whose declared body is JSON with
	// a schema (the generated result decodes it into a JSONxxx field).
	JSONSuccess []int
	// Page says how to walk the list, for Paginated operations.
	Page *Page
}

// Page is what the iterator of a paginated operation needs besides the
// operation's name.
type Page struct {
	// ItemType is the Go type (in package api) of the items of results,
	// named as oapi-codegen names the schema the items refer to.
	ItemType string
	// PathParams are the operation's path parameters, in the order of the
	// generated client method's arguments (their order in the path).
	PathParams []PathParam
}

// PathParam is one path parameter of an iterator.
type PathParam struct {
	Name   string // Go identifier of the argument
	GoType string // Go type, as oapi-codegen declares the argument
}

// Build reads a spec and returns its operation table.
func Build(data []byte) (*Table, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("loading the spec: %w", err)
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, fmt.Errorf("the spec has no paths")
	}

	t := &Table{}
	if t.Core, err = classifyServers(doc.Servers); err != nil {
		return nil, fmt.Errorf("top-level servers: %w", err)
	}

	used := map[string]bool{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			row, err := buildOperation(doc, t.Core, path, item, method, op)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			for _, s := range row.Security {
				used[s] = true
			}
			t.Operations = append(t.Operations, row)
		}
	}
	slices.SortFunc(t.Operations, func(a, b Operation) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method))
	})
	ids := map[string]string{}
	for _, op := range t.Operations {
		if prev, dup := ids[op.ID]; dup {
			return nil, fmt.Errorf("operationId %q is used by both %s and %s %s", op.ID, prev, op.Method, op.Path)
		}
		ids[op.ID] = op.Method + " " + op.Path
	}

	for name := range used {
		ref := doc.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("security scheme %q is used but not defined in components.securitySchemes", name)
		}
		s := ref.Value
		switch {
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
			t.Schemes = append(t.Schemes, Scheme{Name: name, Type: "http", Scheme: "bearer"})
		case s.Type == "apiKey" && s.In == "header" && s.Name != "":
			t.Schemes = append(t.Schemes, Scheme{Name: name, Type: "apiKey", In: "header", Header: s.Name})
		default:
			return nil, fmt.Errorf("security scheme %q (type %q) is not supported: only http bearer and apiKey in a header are", name, s.Type)
		}
	}
	slices.SortFunc(t.Schemes, func(a, b Scheme) int { return cmp.Compare(a.Name, b.Name) })
	return t, nil
}

func buildOperation(doc *openapi3.T, core Servers, path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (Operation, error) {
	if op.OperationID == "" {
		return Operation{}, fmt.Errorf("no operationId: every operation needs one to be named in Go")
	}
	row := Operation{
		ID:      op.OperationID,
		GoName:  goName(op.OperationID),
		Method:  method,
		Path:    path,
		HasBody: op.RequestBody != nil,
	}

	// security: the operation's own (even an empty list) overrides the top level.
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	for _, req := range reqs {
		if len(req) > 1 {
			return row, fmt.Errorf("a security requirement naming several schemes at once (%v) is not supported", keys(req))
		}
		for name := range req {
			row.Security = append(row.Security, name)
		}
	}

	// servers: operation level, else path level, else top level.
	servers := doc.Servers
	switch {
	case op.Servers != nil && len(*op.Servers) > 0:
		servers = *op.Servers
	case len(item.Servers) > 0:
		servers = item.Servers
	}
	s, err := classifyServers(servers)
	if err != nil {
		return row, fmt.Errorf("servers: %w", err)
	}
	row.Servers = s
	row.Edge = s != core

	if row.Success, row.JSONSuccess, err = successStatuses(op); err != nil {
		return row, err
	}

	row.Paginated = isPaginated(item, op)
	if row.Paginated {
		if row.Page, err = pageInfo(path, item, op); err != nil {
			return row, fmt.Errorf("pagination: %w", err)
		}
	}
	return row, nil
}

// successStatuses returns the 2xx and 3xx statuses op declares, ascending,
// and those of them whose body is JSON with a schema. A range ("2XX") is refused: the
// error conversion in package kelviq needs exact statuses.
func successStatuses(op *openapi3.Operation) (success, jsonBody []int, err error) {
	if op.Responses == nil {
		return nil, nil, fmt.Errorf("no responses")
	}
	for key, ref := range op.Responses.Map() {
		if key == "default" {
			continue
		}
		code, convErr := strconv.Atoi(key)
		if convErr != nil || code < 100 || code > 599 {
			return nil, nil, fmt.Errorf("response %q: only exact status codes are supported (not ranges such as 2XX)", key)
		}
		if code < 200 || code > 399 {
			continue
		}
		success = append(success, code)
		if ref != nil && ref.Value != nil {
			for ct, mt := range ref.Value.Content {
				// A JSON body without a schema (updateCatalogPlanFeature's
				// 200 has only an example) gets no typed field in the
				// generated result: nothing to decode, nothing to check.
				if strings.Contains(strings.ToLower(ct), "json") && mt != nil && mt.Schema != nil {
					jsonBody = append(jsonBody, code)
					break
				}
			}
		}
	}
	if len(success) == 0 {
		return nil, nil, fmt.Errorf("no 2xx or 3xx response is declared")
	}
	slices.Sort(success)
	slices.Sort(jsonBody)
	return success, jsonBody, nil
}

// pageInfo returns the item type and path parameters of a paginated
// operation's iterator. The items of results must be a $ref to a named
// schema: an inline item schema has no Go name to return.
func pageInfo(path string, item *openapi3.PathItem, op *openapi3.Operation) (*Page, error) {
	mt := op.Responses.Status(200).Value.Content.Get("application/json")
	results := mt.Schema.Value.Properties["results"].Value
	if results.Items == nil {
		return nil, fmt.Errorf("results has no items schema")
	}
	ref := results.Items.Ref
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok || name == "" || strings.Contains(name, "/") {
		if ref == "" {
			return nil, fmt.Errorf("the items of results are an inline schema: give them a named schema under components.schemas so the iterator has a Go type to yield")
		}
		return nil, fmt.Errorf("the items of results refer to %q, not to a schema of components.schemas", ref)
	}
	pg := &Page{ItemType: typeName(name)}

	// path parameters: operation level overrides path level (by name).
	byName := map[string]*openapi3.Parameter{}
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == "path" {
				byName[p.Value.Name] = p.Value
			}
		}
	}
	used := map[string]bool{"c": true, "ctx": true, "params": true, "reqEditors": true, "p": true, "q": true, "page": true, "size": true, "res": true, "err": true}
	for _, name := range pathParamNames(path) {
		p := byName[name]
		if p == nil {
			return nil, fmt.Errorf("path parameter %q is not declared", name)
		}
		goType, err := paramGoType(p)
		if err != nil {
			return nil, fmt.Errorf("path parameter %q: %w", name, err)
		}
		ident := argName(name)
		for used[ident] {
			ident += "Param"
		}
		used[ident] = true
		pg.PathParams = append(pg.PathParams, PathParam{Name: ident, GoType: goType})
	}
	if len(pg.PathParams) != len(byName) {
		return nil, fmt.Errorf("%d path parameters are declared but the path %s has %d", len(byName), path, len(pg.PathParams))
	}
	return pg, nil
}

// pathParamNames returns the {names} of a path template in order, once each.
func pathParamNames(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			if name, ok = strings.CutSuffix(name, "}"); ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}

// paramGoType is the Go type oapi-codegen v2.8.2 gives a path parameter's
// schema (pkg/codegen/schema.go, oapiSchemaToGoType) for the types a path
// parameter can have; anything else fails generation rather than guess.
func paramGoType(p *openapi3.Parameter) (string, error) {
	if p.Schema == nil || p.Schema.Value == nil {
		return "", fmt.Errorf("no schema (content-typed parameters are not supported)")
	}
	s := p.Schema.Value
	switch {
	case s.Type.Is("string"):
		switch s.Format {
		case "uuid":
			return "openapi_types.UUID", nil
		case "date":
			return "openapi_types.Date", nil
		case "date-time":
			return "time.Time", nil
		case "email":
			return "openapi_types.Email", nil
		case "byte", "binary":
			return "", fmt.Errorf("string format %q is not supported", s.Format)
		}
		return "string", nil
	case s.Type.Is("integer"):
		switch s.Format {
		case "int64":
			return "int64", nil
		case "int32":
			return "int32", nil
		}
		return "int", nil
	case s.Type.Is("boolean"):
		return "bool", nil
	}
	return "", fmt.Errorf("schema type %v is not supported", s.Type)
}

// classifyServers sorts a servers list into production and sandbox by host:
// kelviq's sandbox hosts carry "sandbox" in their name
// (sandboxapi.kelviq.com, edge.sandboxapi.kelviq.com). Descriptions are not
// used: upstream renamed them twice. The order is not used either: since
// 2026-07-10 the sandbox is servers[0].
func classifyServers(servers openapi3.Servers) (Servers, error) {
	var s Servers
	for _, srv := range servers {
		u, err := url.Parse(srv.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.Contains(srv.URL, "{") {
			return s, fmt.Errorf("server %q is not an absolute https URL without variables", srv.URL)
		}
		slot := &s.Production
		if strings.Contains(strings.ToLower(u.Hostname()), "sandbox") {
			slot = &s.Sandbox
		}
		if *slot != "" {
			return s, fmt.Errorf("two servers for one environment: %q and %q", *slot, srv.URL)
		}
		*slot = strings.TrimSuffix(srv.URL, "/")
	}
	if s.Production == "" {
		return s, fmt.Errorf("no production server (one whose host does not contain \"sandbox\") among %d", len(servers))
	}
	return s, nil
}

// isPaginated reports whether op pages by number: query parameters page and
// page_size, and a 200 JSON body with count, next, previous and a results
// array.
func isPaginated(item *openapi3.PathItem, op *openapi3.Operation) bool {
	query := map[string]bool{}
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == "query" {
				query[p.Value.Name] = true
			}
		}
	}
	if !query["page"] || !query["page_size"] {
		return false
	}
	resp := op.Responses.Status(200)
	if resp == nil || resp.Value == nil {
		return false
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return false
	}
	props := mt.Schema.Value.Properties
	for _, name := range []string{"count", "next", "previous", "results"} {
		if props[name] == nil {
			return false
		}
	}
	results := props["results"].Value
	return results != nil && results.Type.Is("array")
}

func keys(m openapi3.SecurityRequirement) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
