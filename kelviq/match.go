package kelviq

import (
	"net/url"
	"slices"
	"strings"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/pathtemplate"
)

// opMatcher finds the operation of a request from its method and path, by
// the path templates of api.Operations (internal/pathtemplate, the matcher
// the fake server shares). It is built once and allocates nothing per
// lookup.
type opMatcher struct {
	index pathtemplate.Index // ids: indexes in api.Operations
}

var operations = newOpMatcher(api.Operations)

func newOpMatcher(ops []api.Operation) *opMatcher {
	m := &opMatcher{}
	for i := range ops {
		m.index.Add(ops[i].Method, ops[i].Path, i)
	}
	return m
}

// lookup returns the operation for method and path (the escaped path below
// the server URL, e.g. "/customers/abc/") and its index in api.Operations,
// preferring the template with the most literal segments when several
// match; nil and -1 when none does.
func (m *opMatcher) lookup(method, path string) (*api.Operation, int) {
	i := m.index.Lookup(method, path)
	if i < 0 {
		return nil, -1
	}
	return &api.Operations[i], i
}

// opFinder finds the operation of a request that is already routed (the
// redirect policy and the retry log see only those), from its method and
// absolute URL: the URL is below one of the servers an operation can be
// routed to, and the rest goes to the matcher. It allocates nothing.
type opFinder struct {
	prefixes []target // distinct scheme, host and path of every server
}

func newOpFinder(s *settings) *opFinder {
	f := &opFinder{}
	add := func(raw string) {
		if raw == "" {
			return
		}
		t, err := parseTarget(raw)
		if err == nil && !slices.Contains(f.prefixes, t) {
			f.prefixes = append(f.prefixes, t)
		}
	}
	if s.baseURL != nil {
		add(s.baseURL.String())
	}
	if s.edgeURL != nil {
		add(s.edgeURL.String())
	}
	add(api.CoreServers.Production)
	add(api.CoreServers.Sandbox)
	for i := range api.Operations {
		add(api.Operations[i].Servers.Production)
		add(api.Operations[i].Servers.Sandbox)
	}
	// Longest path first, so a server below another one wins.
	slices.SortStableFunc(f.prefixes, func(a, b target) int { return len(b.path) - len(a.path) })
	return f
}

// find returns the operation of a request for method and u, or nil.
func (f *opFinder) find(method string, u *url.URL) *api.Operation {
	if u == nil {
		return nil
	}
	path := u.EscapedPath()
	for i := range f.prefixes {
		p := &f.prefixes[i]
		if p.host != u.Host || p.scheme != u.Scheme {
			continue
		}
		rel, ok := strings.CutPrefix(path, p.path)
		if !ok {
			continue
		}
		if op, _ := operations.lookup(method, rel); op != nil {
			return op
		}
	}
	return nil
}
