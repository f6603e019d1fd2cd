package kelviq

import (
	"strings"

	"github.com/kelviq/kelviq-go/api"
)

// opMatcher finds the operation of a request from its method and path, by
// the path templates of api.Operations. It is built once and allocates
// nothing per lookup.
type opMatcher struct {
	// byMethod[method][n] are the templates of that method with n '/'.
	byMethod map[string][][]compiledOp
}

type compiledOp struct {
	op       *api.Operation
	index    int      // in api.Operations
	segments []string // the template split at '/'; "" for a {parameter}
	params   []bool   // params[i]: segment i is a parameter
	literals int      // count of literal segments, for precedence
}

var operations = newOpMatcher(api.Operations)

func newOpMatcher(ops []api.Operation) *opMatcher {
	m := &opMatcher{byMethod: map[string][][]compiledOp{}}
	for i := range ops {
		op := &ops[i]
		c := compiledOp{op: op, index: i}
		for _, seg := range strings.Split(op.Path, "/") {
			param := strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
			if param {
				seg = ""
			} else {
				c.literals++
			}
			c.segments = append(c.segments, seg)
			c.params = append(c.params, param)
		}
		n := strings.Count(op.Path, "/")
		bySlashes := m.byMethod[op.Method]
		for len(bySlashes) <= n {
			bySlashes = append(bySlashes, nil)
		}
		bySlashes[n] = append(bySlashes[n], c)
		m.byMethod[op.Method] = bySlashes
	}
	return m
}

// lookup returns the operation for method and path (the escaped path below
// the server URL, e.g. "/customers/abc/"), preferring the template with the
// most literal segments when several match (as routers do:
// /partner/organizations/by-external-id/{externalId}/ over a parameter),
// and -1 when none does.
func (m *opMatcher) lookup(method, path string) (*api.Operation, int) {
	var best *compiledOp
	bySlashes := m.byMethod[method]
	n := strings.Count(path, "/")
	if n >= len(bySlashes) {
		return nil, -1
	}
	cands := bySlashes[n]
	for i := range cands {
		c := &cands[i]
		if c.match(path) && (best == nil || c.literals > best.literals) {
			best = c
		}
	}
	if best == nil {
		return nil, -1
	}
	return best.op, best.index
}

func (c *compiledOp) match(path string) bool {
	rest := path
	for i, seg := range c.segments {
		if i > 0 {
			// every segment after the first is preceded by a '/'
			if rest == "" || rest[0] != '/' {
				return false
			}
			rest = rest[1:]
		}
		part := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			part = rest[:j]
		}
		if c.params[i] {
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
