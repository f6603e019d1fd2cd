package kelviq

import (
	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/pathtemplate"
)

// opMatcher finds the operation of a request from its method and path, by
// the path templates of api.Operations. It is built once and allocates
// nothing per lookup.
type opMatcher struct {
	// byMethod[method][n] are the operations of that method whose
	// template has n '/', and their templates.
	byMethod map[string][]candidates
}

type candidates struct {
	templates []pathtemplate.Template
	index     []int // in api.Operations
}

var operations = newOpMatcher(api.Operations)

func newOpMatcher(ops []api.Operation) *opMatcher {
	m := &opMatcher{byMethod: map[string][]candidates{}}
	for i := range ops {
		t := pathtemplate.Parse(ops[i].Path)
		bySlashes := m.byMethod[ops[i].Method]
		for len(bySlashes) <= t.Slashes() {
			bySlashes = append(bySlashes, candidates{})
		}
		c := &bySlashes[t.Slashes()]
		c.templates = append(c.templates, t)
		c.index = append(c.index, i)
		m.byMethod[ops[i].Method] = bySlashes
	}
	return m
}

// lookup returns the operation for method and path (the escaped path below
// the server URL, e.g. "/customers/abc/") and its index in api.Operations,
// preferring the template with the most literal segments when several
// match; nil and -1 when none does.
func (m *opMatcher) lookup(method, path string) (*api.Operation, int) {
	bySlashes := m.byMethod[method]
	n := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			n++
		}
	}
	if n >= len(bySlashes) {
		return nil, -1
	}
	c := &bySlashes[n]
	best := pathtemplate.Best(c.templates, path)
	if best < 0 {
		return nil, -1
	}
	i := c.index[best]
	return &api.Operations[i], i
}
