package kelviqtest

import (
	"net/url"
	"slices"
	"strings"
)

// router finds the operation of a request from the spec's path templates.
// It is built once per spec; a lookup compares path segments and allocates
// only the path parameters it returns.
type router struct {
	paths []*pathRoute
}

// pathRoute is one path template of the spec and its operations.
type pathRoute struct {
	template string
	segments []string // split at '/'; for a parameter, its name
	param    []bool
	literals int
	methods  map[string]*operation
}

func newRouter(ops []*operation) *router {
	r := &router{}
	byPath := map[string]*pathRoute{}
	for _, op := range ops {
		pr := byPath[op.path]
		if pr == nil {
			pr = &pathRoute{template: op.path, methods: map[string]*operation{}}
			for _, seg := range strings.Split(op.path, "/") {
				isParam := strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
				if isParam {
					seg = seg[1 : len(seg)-1]
				} else {
					pr.literals++
				}
				pr.segments = append(pr.segments, seg)
				pr.param = append(pr.param, isParam)
			}
			byPath[op.path] = pr
			r.paths = append(r.paths, pr)
		}
		pr.methods[op.method] = op
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
	var best *pathRoute
	for _, pr := range r.paths {
		if pr.match(path) && (best == nil || pr.literals > best.literals) {
			best = pr
		}
	}
	if best == nil {
		return nil, nil, false
	}
	op = best.methods[method]
	if op == nil {
		return nil, nil, true
	}
	params = make(map[string]string, len(best.segments)-best.literals)
	rest := path
	for i, seg := range best.segments {
		if i > 0 {
			rest = rest[1:] // the '/' match checked
		}
		part := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			part = rest[:j]
		}
		if best.param[i] {
			v, err := url.PathUnescape(part)
			if err != nil {
				v = part
			}
			params[seg] = v
		}
		rest = rest[len(part):]
	}
	return op, params, true
}

func (pr *pathRoute) match(path string) bool {
	rest := path
	for i, seg := range pr.segments {
		if i > 0 {
			if rest == "" || rest[0] != '/' {
				return false
			}
			rest = rest[1:]
		}
		part := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			part = rest[:j]
		}
		if pr.param[i] {
			if part == "" {
				return false
			}
		} else if part != seg {
			return false
		}
		rest = rest[len(part):]
	}
	return rest == ""
}

// methods lists the methods of the template the path matches, sorted.
func (r *router) methods(path string) []string {
	var best *pathRoute
	for _, pr := range r.paths {
		if pr.match(path) && (best == nil || pr.literals > best.literals) {
			best = pr
		}
	}
	if best == nil {
		return nil
	}
	out := make([]string, 0, len(best.methods))
	for m := range best.methods {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}
