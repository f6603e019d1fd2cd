package main

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
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

	row.Paginated = isPaginated(item, op)
	return row, nil
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
