// Package pathtemplate matches request paths against OpenAPI path templates
// ("/customers/{customerId}/"). The client (to find a request's operation)
// and the fake server (to route a request) share it; a match allocates
// nothing.
package pathtemplate

import (
	"net/url"
	"strings"
)

// Template is a path template split at '/'.
type Template struct {
	// Raw is the template as written in the spec.
	Raw string
	// Literals counts the segments that are not parameters: of several
	// templates that match a path, the one with the most literal segments
	// is the one meant (/partner/organizations/by-external-id/{externalId}/
	// over /partner/organizations/{identifier}/ with a parameter there).
	Literals int

	segments []string // for a parameter, its name
	params   []bool
}

// Parse splits a template. Any segment written "{name}" is a parameter.
func Parse(raw string) Template {
	t := Template{Raw: raw}
	for _, seg := range strings.Split(raw, "/") {
		isParam := len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
		if isParam {
			seg = seg[1 : len(seg)-1]
		} else {
			t.Literals++
		}
		t.segments = append(t.segments, seg)
		t.params = append(t.params, isParam)
	}
	return t
}

// Slashes is the number of '/' in the template, which a matching path has
// too: callers index templates by it.
func (t *Template) Slashes() int { return len(t.segments) - 1 }

// Match reports whether the escaped path matches the template: the same
// literal segments, and a non-empty segment for every parameter.
func (t *Template) Match(path string) bool {
	_, ok := t.walk(path, nil)
	return ok
}

// Params returns the path's parameter values, unescaped, by name; nil when
// the path does not match.
func (t *Template) Params(path string) map[string]string {
	params := make(map[string]string, len(t.segments)-t.Literals)
	if _, ok := t.walk(path, params); !ok {
		return nil
	}
	return params
}

func (t *Template) walk(path string, params map[string]string) (string, bool) {
	rest := path
	for i, seg := range t.segments {
		if i > 0 {
			if rest == "" || rest[0] != '/' {
				return rest, false
			}
			rest = rest[1:]
		}
		part := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			part = rest[:j]
		}
		switch {
		case !t.params[i]:
			if part != seg {
				return rest, false
			}
		case part == "":
			return rest, false
		case params != nil:
			v, err := url.PathUnescape(part)
			if err != nil {
				v = part
			}
			params[seg] = v
		}
		rest = rest[len(part):]
	}
	return rest, rest == ""
}

// Best returns the index of the template in ts that matches path with the
// most literal segments, or -1 when none matches.
func Best(ts []Template, path string) int {
	best := -1
	for i := range ts {
		if ts[i].Match(path) && (best < 0 || ts[i].Literals > ts[best].Literals) {
			best = i
		}
	}
	return best
}

// Index finds the template a request matches, by method and escaped path,
// among many: templates are grouped by method and by their number of '/',
// so a lookup tries only the few a path can match. It is built once (Add is
// not safe to call concurrently with Lookup) and a lookup allocates nothing.
type Index struct {
	byMethod map[string][]group // [method][slashes]
}

type group struct {
	templates []Template
	ids       []int
}

// Add records the template raw for method under id, the value Lookup
// returns for it.
func (x *Index) Add(method, raw string, id int) {
	if x.byMethod == nil {
		x.byMethod = map[string][]group{}
	}
	t := Parse(raw)
	bySlashes := x.byMethod[method]
	for len(bySlashes) <= t.Slashes() {
		bySlashes = append(bySlashes, group{})
	}
	g := &bySlashes[t.Slashes()]
	g.templates = append(g.templates, t)
	g.ids = append(g.ids, id)
	x.byMethod[method] = bySlashes
}

// Lookup returns the id of the template of method that path matches, the
// one with the most literal segments when several do (see Best); -1 when
// none does.
func (x *Index) Lookup(method, path string) int {
	bySlashes := x.byMethod[method]
	n := strings.Count(path, "/")
	if n >= len(bySlashes) {
		return -1
	}
	g := &bySlashes[n]
	best := Best(g.templates, path)
	if best < 0 {
		return -1
	}
	return g.ids[best]
}
