package kelviqtest

import (
	"slices"

	"github.com/kelviq/kelviq-go/internal/pathtemplate"
)

// router finds the operation of a request from the spec's path templates
// (shared matching with the client: internal/pathtemplate). It is built
// once per spec; a lookup allocates only the path parameters it returns.
type router struct {
	templates []pathtemplate.Template
	byMethod  []map[string]*operation // per template: its operations by method
}

func newRouter(ops []*operation) *router {
	r := &router{}
	byPath := map[string]int{}
	for _, op := range ops {
		i, ok := byPath[op.path]
		if !ok {
			i = len(r.templates)
			byPath[op.path] = i
			r.templates = append(r.templates, pathtemplate.Parse(op.path))
			r.byMethod = append(r.byMethod, map[string]*operation{})
		}
		r.byMethod[i][op.method] = op
	}
	return r
}

// find returns the operation for method and the escaped request path
// (relative to the server URL), with its path parameters unescaped. When
// the path matches a template but not the method, op is nil and known is
// true. Of several matching templates the one with the most literal
// segments wins (/partner/organizations/by-external-id/{externalId}/ over
// a parameter in the same place).
func (r *router) find(method, path string) (op *operation, params map[string]string, known bool) {
	best := pathtemplate.Best(r.templates, path)
	if best < 0 {
		return nil, nil, false
	}
	op = r.byMethod[best][method]
	if op == nil {
		return nil, nil, true
	}
	return op, r.templates[best].Params(path), true
}

// methods lists the methods of the template the path matches, sorted.
func (r *router) methods(path string) []string {
	best := pathtemplate.Best(r.templates, path)
	if best < 0 {
		return nil
	}
	out := make([]string, 0, len(r.byMethod[best]))
	for m := range r.byMethod[best] {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}
