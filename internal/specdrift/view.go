package specdrift

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// OpKey identifies an operation as the report does: the upper-case HTTP
// method and the path template, e.g. "GET /payment-methods/".
type OpKey struct {
	Method string
	Path   string
}

// String returns "METHOD /path".
func (k OpKey) String() string { return k.Method + " " + k.Path }

// ParseOpKey parses "GET /orders/" (the method may be lower case).
func ParseOpKey(s string) (OpKey, error) {
	method, path, ok := strings.Cut(strings.TrimSpace(s), " ")
	path = strings.TrimSpace(path)
	if !ok || method == "" || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t") {
		return OpKey{}, fmt.Errorf("operation %q: want \"METHOD /path\"", s)
	}
	m := strings.ToUpper(method)
	if !knownMethod(m) {
		return OpKey{}, fmt.Errorf("operation %q: unknown HTTP method %q", s, method)
	}
	return OpKey{Method: m, Path: path}, nil
}

var methodOrder = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "QUERY", "CONNECT"}

func knownMethod(m string) bool { return slices.Contains(methodOrder, m) }

// compareKeys orders operations by path, then by method in the order above.
func compareKeys(a, b OpKey) int {
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return cmp.Compare(slices.Index(methodOrder, a.Method), slices.Index(methodOrder, b.Method))
}

// Levels at which servers and security can be declared.
const (
	LevelTop       = "top level"
	LevelPath      = "path level"
	LevelOperation = "operation level"
)

// ServerDecl is the effective server list of an operation and the level that
// declares it (the operation's own, its path item's, or the document's).
type ServerDecl struct {
	Level   string // LevelOperation, LevelPath, LevelTop, or "" when nothing is declared
	Servers []ServerEntry
}

// ServerEntry is one server: its URL and description.
type ServerEntry struct {
	URL         string
	Description string
}

// SecurityDecl is the effective security of an operation and the level that
// declares it. An empty, non-nil Requirements declared at operation level
// means the operation needs no credentials.
type SecurityDecl struct {
	Level        string // LevelOperation, LevelTop, or "" when nothing is declared
	Requirements openapi3.SecurityRequirements
}

// Operation is one operation of a spec with what a comparison needs.
type Operation struct {
	Key         OpKey
	OperationID string
	Summary     string
	Tags        []string
	Servers     ServerDecl
	Security    SecurityDecl
	// Schemes are the security schemes the document defines (all of them,
	// as a docs page fragment carries them).
	Schemes openapi3.SecuritySchemes
	// Origin is where the operation was read: a spec path or URL, or a page URL.
	Origin string

	op   *openapi3.Operation // as in the document
	item *openapi3.PathItem  // as in the document
}

// View is the set of operations of one spec (or of the pages of a docs site).
type View struct {
	// Source names where the view was read (path or URL).
	Source string
	// Ops maps each operation's key to it.
	Ops map[OpKey]*Operation
	// order lists the keys in document order when known, else sorted.
	order []OpKey
}

// Keys returns the view's operation keys sorted by path, then method.
func (v *View) Keys() []OpKey {
	keys := make([]OpKey, 0, len(v.Ops))
	for k := range v.Ops {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// Len returns the number of operations.
func (v *View) Len() int { return len(v.Ops) }

// NewView collects the operations of a loaded document. source names the
// document in messages. It fails on a document without paths.
func NewView(doc *openapi3.T, source string) (*View, error) {
	if doc == nil || doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, fmt.Errorf("%s: the spec has no paths", source)
	}
	v := &View{Source: source, Ops: map[OpKey]*Operation{}}
	for path, item := range doc.Paths.Map() {
		if item == nil {
			continue
		}
		for method, op := range item.Operations() {
			if op == nil {
				continue
			}
			o := newOperation(doc, path, item, strings.ToUpper(method), op)
			o.Origin = source
			v.Ops[o.Key] = o
		}
	}
	if len(v.Ops) == 0 {
		return nil, fmt.Errorf("%s: the spec has no operations", source)
	}
	v.order = v.Keys()
	return v, nil
}

// setOrder replaces the view's document order with the given keys (those not
// in the view are ignored; keys of the view missing from it go last, sorted).
func (v *View) setOrder(keys []OpKey) {
	seen := map[OpKey]bool{}
	order := make([]OpKey, 0, len(v.Ops))
	for _, k := range keys {
		if _, ok := v.Ops[k]; ok && !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	for _, k := range v.Keys() {
		if !seen[k] {
			order = append(order, k)
		}
	}
	v.order = order
}

func newOperation(doc *openapi3.T, path string, item *openapi3.PathItem, method string, op *openapi3.Operation) *Operation {
	o := &Operation{
		Key:         OpKey{Method: method, Path: path},
		OperationID: op.OperationID,
		Summary:     op.Summary,
		Tags:        slices.Clone(op.Tags),
		op:          op,
		item:        item,
	}
	switch {
	case op.Servers != nil && len(*op.Servers) > 0:
		o.Servers = ServerDecl{Level: LevelOperation, Servers: serverEntries(*op.Servers)}
	case len(item.Servers) > 0:
		o.Servers = ServerDecl{Level: LevelPath, Servers: serverEntries(item.Servers)}
	case len(doc.Servers) > 0:
		o.Servers = ServerDecl{Level: LevelTop, Servers: serverEntries(doc.Servers)}
	}
	switch {
	case op.Security != nil:
		o.Security = SecurityDecl{Level: LevelOperation, Requirements: *op.Security}
	case doc.Security != nil:
		o.Security = SecurityDecl{Level: LevelTop, Requirements: doc.Security}
	}
	if doc.Components != nil {
		o.Schemes = doc.Components.SecuritySchemes
	}
	return o
}

func serverEntries(servers openapi3.Servers) []ServerEntry {
	out := make([]ServerEntry, 0, len(servers))
	for _, s := range servers {
		if s == nil {
			continue
		}
		out = append(out, ServerEntry{URL: s.URL, Description: s.Description})
	}
	return out
}

// diffDoc returns a self-contained one-operation document for oasdiff: the
// operation with its path-level parameters merged in, and without what this
// package compares itself (servers, security, operationId). References stay
// resolved, so the schemas the operation reaches are compared and nothing
// else (the components are left empty: unreferenced schemas are pruned).
//
// The operation is placed at key (the other side's, so that two operations
// with different keys can be compared).
func (o *Operation) diffDoc(key OpKey) *openapi3.T {
	cp := *o.op
	cp.Servers = nil
	cp.Security = nil
	cp.OperationID = ""
	cp.Parameters = mergedParameters(o.item.Parameters, o.op.Parameters)
	item := &openapi3.PathItem{}
	item.SetOperation(key.Method, &cp)
	return &openapi3.T{
		OpenAPI:    "3.0.0",
		Info:       &openapi3.Info{Title: "specdrift", Version: "0"},
		Paths:      openapi3.NewPaths(openapi3.WithPath(key.Path, item)),
		Components: &openapi3.Components{},
	}
}

// mergedParameters returns the operation's parameters plus the path item's
// parameters it does not override (same name and location).
func mergedParameters(pathParams, opParams openapi3.Parameters) openapi3.Parameters {
	out := slices.Clone(opParams)
	for _, pp := range pathParams {
		if pp == nil || pp.Value == nil {
			continue
		}
		if opParams.GetByInAndName(pp.Value.In, pp.Value.Name) != nil {
			continue
		}
		out = append(out, pp)
	}
	return out
}
