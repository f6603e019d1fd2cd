package kelviq

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kelviq/kelviq-go/api"
)

// ErrMissingCredential is wrapped by the error of a call whose operation
// needs a key the client was not given. Nothing was sent.
var ErrMissingCredential = errors.New("kelviq: missing credential")

// ErrUnknownOperation is wrapped by the error of a request that matches no
// operation of the spec the client was generated from, or that a request
// editor changed into another operation than the one it was built for (a
// call of deleteCatalogPlanFeature edited into deleteCatalogPlan's path).
// Nothing was sent.
var ErrUnknownOperation = errors.New("kelviq: no operation of the spec matches the request")

// ErrNoSandboxServer is wrapped by the error of a call, in the sandbox, to
// an operation for which the spec declares no sandbox host. Nothing was sent.
var ErrNoSandboxServer = errors.New("kelviq: the spec declares no sandbox server for the operation")

// target is where one operation's requests go.
type target struct {
	scheme, host, path string // path: the server URL's path, no trailing '/'
	missing            bool   // no server for the environment
}

// router authenticates and routes every request the generated client
// builds: it finds the request's operation in api.Operations, sets exactly
// the credential that operation's security names, and moves the request to
// the operation's host. The response check calls it first thing, so it sees
// each request after all request editors.
type router struct {
	base    target       // the URL the generated client builds requests on
	targets []target     // per api.Operations index
	creds   []credential // per api.Operations index; nil: none needed
	missing []error      // per api.Operations index: the error when a key is missing
	ua      []string     // the User-Agent header value
	strip   []string     // canonical names of every credential header, removed before the operation's is set
}

// credential is one header to set.
type credential struct {
	header string   // canonical header name
	value  []string // shared, never modified
}

func newRouter(s *settings) (*router, error) {
	r := &router{ua: []string{userAgent(s.userAgent)}}

	// The generated client builds every request on one URL: the core server
	// of the environment, or the base URL.
	core := api.CoreServers.Production
	if s.env == Sandbox {
		core = api.CoreServers.Sandbox
	}
	if s.baseURL != nil {
		core = s.baseURL.String()
	}
	base, err := parseTarget(core)
	if err != nil {
		return nil, err
	}
	r.base = base

	r.strip = []string{"Authorization"}
	for _, info := range api.SecuritySchemes {
		if k := http.CanonicalHeaderKey(info.Header); info.Header != "" && !slices.Contains(r.strip, k) {
			r.strip = append(r.strip, k)
		}
	}

	bearer := credential{header: "Authorization", value: []string{"Bearer " + s.serverKey}}
	schemes := map[api.SecurityScheme]*credential{}
	for _, info := range api.SecuritySchemes {
		switch {
		case info.Type == "http" && info.Scheme == "bearer":
			if s.serverKey != "" {
				schemes[info.Name] = &bearer
			}
		case info.Type == "apiKey" && info.Header != "":
			if s.partnerKey != "" {
				schemes[info.Name] = &credential{header: http.CanonicalHeaderKey(info.Header), value: []string{s.partnerKey}}
			}
		}
	}

	for i := range api.Operations {
		op := &api.Operations[i]
		t, err := r.targetFor(s, op)
		if err != nil {
			return nil, err
		}
		r.targets = append(r.targets, t)

		var cred *credential
		for _, name := range op.Security {
			if c := schemes[name]; c != nil {
				cred = c
				break
			}
		}
		var missing error
		if cred == nil && len(op.Security) > 0 {
			missing = fmt.Errorf("%w: %s (%s %s) needs %s", ErrMissingCredential, op.ID, op.Method, op.Path, optionsFor(op.Security))
		}
		if cred != nil {
			r.creds = append(r.creds, *cred)
		} else {
			r.creds = append(r.creds, credential{})
		}
		r.missing = append(r.missing, missing)
	}
	return r, nil
}

// optionsFor names the options that provide the given schemes.
func optionsFor(names []api.SecurityScheme) string {
	var opts []string
	for _, name := range names {
		for _, info := range api.SecuritySchemes {
			if info.Name != name {
				continue
			}
			switch info.Type {
			case "http":
				opts = append(opts, "a server key: pass kelviq.WithServerKey")
			case "apiKey":
				opts = append(opts, "a partner key: pass kelviq.WithPartnerKey")
			}
		}
	}
	return strings.Join(opts, ", or ")
}

// targetFor is the host an operation's requests go to.
func (r *router) targetFor(s *settings, op *api.Operation) (target, error) {
	switch {
	case op.Edge && s.edgeURL != nil:
		return parseTarget(s.edgeURL.String())
	case s.baseURL != nil:
		return r.base, nil
	case s.env == Sandbox:
		if op.Servers.Sandbox == "" {
			return target{missing: true}, nil
		}
		return parseTarget(op.Servers.Sandbox)
	default:
		return parseTarget(op.Servers.Production)
	}
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("kelviq: bad server URL: %w", err)
	}
	return target{scheme: u.Scheme, host: u.Host, path: strings.TrimSuffix(u.EscapedPath(), "/")}, nil
}

// edit is route as a request editor (its signature), for tests and the
// routing benchmark.
func (r *router) edit(_ context.Context, req *http.Request) error {
	_, err := r.route(req)
	return err
}

// route runs on every request the generated client builds, after every
// request editor (the caller's per-call ones included) and before anything
// is sent: it finds the request's operation, sets exactly its credential,
// and moves it to its host. An error stops the call with nothing sent. It
// returns the operation, which the response check uses.
func (r *router) route(req *http.Request) (*api.Operation, error) {
	if req.URL.Opaque != "" {
		// net/http sends Opaque as the request line's path instead of
		// Path: a request editor setting it would send one operation's
		// credential to whatever path it names.
		return nil, fmt.Errorf("%w: %s request with an opaque URL %q", ErrUnknownOperation, req.Method, clean(req.URL.Opaque, 64))
	}
	path := req.URL.EscapedPath()
	rel, ok := strings.CutPrefix(path, r.base.path)
	if !ok || req.URL.Host != r.base.host || req.URL.Scheme != r.base.scheme {
		// The scheme too: a request editor turning https into http would
		// otherwise send the key in clear to the right host.
		return nil, fmt.Errorf("%w: %s %s is not below the client's base URL", ErrUnknownOperation, req.Method, path)
	}
	if hasDotSegment(rel) {
		// The generated builders never write one (checkPathParam): a
		// request editor did, and a server resolving it would route the
		// request to another resource than the operation's.
		return nil, fmt.Errorf("%w: %s %s has a dot segment (a request editor wrote it)", ErrUnknownOperation, req.Method, clean(rel, 256))
	}
	op, i := operations.lookup(req.Method, rel)
	if op == nil {
		return nil, fmt.Errorf("%w: %s %s", ErrUnknownOperation, req.Method, rel)
	}
	if want := builtForOf(req.Context()); want != "" && want != op.ID {
		// A request editor changed the method or path of a call: it would
		// go out as another operation, with that operation's credential.
		return nil, fmt.Errorf("%w: a call of %s was changed (by a request editor) into %s %s, which is %s", ErrUnknownOperation, want, req.Method, rel, op.ID)
	}
	if err := r.missing[i]; err != nil {
		return nil, err
	}
	if op.Paginated {
		if err := checkPageSize(op, req.URL.RawQuery); err != nil {
			return nil, err
		}
	}
	t := &r.targets[i]
	if t.missing {
		return nil, fmt.Errorf("%w: %s (%s %s)", ErrNoSandboxServer, op.ID, op.Method, op.Path)
	}

	// Exactly the operation's credential: remove both kinds first, so
	// nothing set earlier on the request leaks to an operation that does
	// not name it.
	// (Header.Del of each, with the names canonicalized once.)
	h := req.Header
	for _, k := range r.strip {
		delete(h, k)
	}
	if c := r.creds[i]; c.header != "" {
		h[c.header] = c.value
	}
	h["User-Agent"] = r.ua

	if t.host != r.base.host || t.scheme != r.base.scheme || t.path != r.base.path {
		req.URL.Scheme = t.scheme
		req.URL.Host = t.host
		req.Host = t.host
		if t.path != r.base.path {
			unescaped := strings.TrimPrefix(req.URL.Path, strings.TrimSuffix(r.base.pathUnescaped(), "/"))
			req.URL.Path = t.pathUnescaped() + unescaped
			if req.URL.RawPath != "" {
				req.URL.RawPath = t.path + rel
			}
		}
	}
	return op, nil
}

func (t target) pathUnescaped() string {
	p, err := url.PathUnescape(t.path)
	if err != nil {
		return t.path
	}
	return p
}

// String is the target as a URL.
func (t target) String() string { return t.scheme + "://" + t.host + t.path }

// hasDotSegment reports whether the escaped path p has a segment that a
// server could resolve away or merge: "." or "..", the dots written as
// is or as %2E, alone or as a piece between separators a server may
// decode or honour (%2F, %5C, %3B, '\', ';'); or a segment of such
// separators only. It is checkPathParam's rule on the path as sent, for
// what request editors write. It allocates nothing.
func hasDotSegment(p string) bool {
	dots, other := 0, false  // the current piece
	seps, filled := 0, false // the current segment
	for i := 0; ; {
		end := i == len(p)
		sep := 0 // the length of a separator inside a segment at i
		if !end {
			switch c := p[i]; {
			case c == '\\' || c == ';':
				sep = 1
			case c == '%' && i+2 < len(p) && encodedSeparator(p[i+1], p[i+2]):
				sep = 3
			}
		}
		if end || p[i] == '/' || sep > 0 {
			if !other && (dots == 1 || dots == 2) {
				return true
			}
			filled = filled || other || dots > 0
			dots, other = 0, false
			if sep > 0 {
				seps++
				i += sep
				continue
			}
			if seps > 0 && !filled {
				return true
			}
			if end {
				return false
			}
			seps, filled = 0, false
			i++
			continue
		}
		switch {
		case p[i] == '.':
			dots++
			i++
		case p[i] == '%' && i+2 < len(p) && p[i+1] == '2' && (p[i+2] == 'e' || p[i+2] == 'E'):
			dots++
			i += 3
		default:
			other = true
			i++
		}
	}
}

// encodedSeparator reports whether %ab encodes '/', '\\' or ';'.
func encodedSeparator(a, b byte) bool {
	b |= 0x20 // lower case of a hex letter
	return (a == '2' && b == 'f') || (a == '5' && b == 'c') || (a == '3' && b == 'b')
}
