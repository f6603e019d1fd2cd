// Package docsite builds a docs site like kelviq's from an OpenAPI spec, for
// tests and offline demos of the drift check: an index (llms.txt) and one
// markdown twin per operation in the format the live docs serve (a title,
// the description, "## OpenAPI" and a ````yaml fence holding a self-contained
// one-operation spec), plus the full spec at api-reference/openapi.json.
//
// Page paths follow the docs site's rule independently of package specdrift
// (api-reference/<slug(first tag)>/<slug(summary)>, duplicates "-1", "-2"), so
// tests cross-check the two.
package docsite

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Canonical is the docs domain the index's links name.
const Canonical = "https://docs.kelviq.com"

// Options tune Build.
type Options struct {
	// NoSpec leaves out api-reference/openapi.json (it answers 404).
	NoSpec bool
}

// Page is one generated operation page.
type Page struct {
	// Path is the URL path of the twin, e.g. "/api-reference/partner/list-partner-organizations.md".
	Path string
	// Method is the lower-case method, OpPath the path template.
	Method, OpPath string
	// OperationID and Title (the summary) of the operation.
	OperationID, Title string
}

// Fault changes how Handler answers one URL path.
type Fault struct {
	// Status, when not 0, is answered instead of the file (with Body).
	Status int
	// Body replaces the file's content (with Status or 200).
	Body []byte
	// Delay waits before answering (cut short when the request is canceled).
	Delay time.Duration
	// Times limits the fault to the first Times requests (0: every request).
	Times int
}

// Site is a generated docs site. Set Faults and PageDelay before serving.
type Site struct {
	// Files maps URL paths ("/llms.txt") to content.
	Files map[string][]byte
	// Pages lists the operation pages in spec order.
	Pages []Page
	// Faults maps URL paths to faults.
	Faults map[string]Fault
	// PageDelay delays every .md answer.
	PageDelay time.Duration

	mu       sync.Mutex
	requests map[string]int
}

// PageOf returns the twin path of the operation with that method and path
// ("" if none).
func (s *Site) PageOf(method, path string) string {
	for _, p := range s.Pages {
		if strings.EqualFold(p.Method, method) && p.OpPath == path {
			return p.Path
		}
	}
	return ""
}

// Requests returns how many requests a URL path received.
func (s *Site) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Handler serves the site's files with the configured faults and delays.
func (s *Site) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.requests == nil {
			s.requests = map[string]int{}
		}
		s.requests[r.URL.Path]++
		n := s.requests[r.URL.Path]
		s.mu.Unlock()
		f, faulty := s.Faults[r.URL.Path]
		if faulty && f.Times > 0 && n > f.Times {
			faulty, f = false, Fault{}
		}
		delay := f.Delay
		if strings.HasSuffix(r.URL.Path, ".md") {
			delay += s.PageDelay
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		body, ok := s.Files[r.URL.Path]
		status := http.StatusOK
		if faulty && f.Body != nil {
			body, ok = f.Body, true
		}
		if faulty && f.Status != 0 {
			status, ok = f.Status, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, ".json"):
			w.Header().Set("Content-Type", "application/json")
		default:
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// Build generates the site of a JSON spec.
func Build(spec []byte, opt Options) (*Site, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("docsite: spec: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("docsite: spec: not a mapping")
	}
	root := doc.Content[0]
	paths := get(root, "paths")
	if paths == nil {
		return nil, errors.New("docsite: spec: no paths")
	}
	components := get(root, "components")

	s := &Site{Files: map[string][]byte{}, Faults: map[string]Fault{}}
	var index []indexLine
	seen := map[string]int{}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			method, op := item.Content[j].Value, item.Content[j+1]
			if !isMethod(method) {
				continue
			}
			page := pagePath(method, path, op)
			n := seen[page]
			seen[page] = n + 1
			if n > 0 {
				page = fmt.Sprintf("%s-%d", page, n)
			}
			frag, err := fragment(root, components, path, item, method, op)
			if err != nil {
				return nil, fmt.Errorf("docsite: %s %s: %w", method, path, err)
			}
			title := scalar(op, "summary")
			desc := scalar(op, "description")
			s.Files["/"+page+".md"] = pageMarkdown(title, desc, method, path, frag)
			s.Pages = append(s.Pages, Page{Path: "/" + page + ".md", Method: method, OpPath: path,
				OperationID: scalar(op, "operationId"), Title: title})
			index = append(index, indexLine{page, title, desc})
		}
	}
	for _, hw := range []indexLine{
		{"api-reference/authentication", "Authentication", ""},
		{"api-reference/introduction", "Introduction", "Overview of the kelviq REST API."},
		{"quickstart", "Quickstart", "Get started with kelviq."},
		{"guides/webhooks", "Webhooks", "Receive kelviq events."},
	} {
		s.Files["/"+hw.path+".md"] = []byte("# " + hw.title + "\n\n" + hw.desc + "\n")
		index = append(index, hw)
	}
	s.Files["/llms.txt"] = llmsTxt(index)
	if !opt.NoSpec {
		s.Files["/api-reference/openapi.json"] = slices.Clone(spec)
	}
	return s, nil
}

type indexLine struct{ path, title, desc string }

func llmsTxt(lines []indexLine) []byte {
	sort.Slice(lines, func(i, j int) bool { return lines[i].path < lines[j].path })
	var b bytes.Buffer
	b.WriteString("# Kelviq Documentation\n\n## Docs\n\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "- [%s](%s/%s.md)", l.title, Canonical, l.path)
		if d := strings.Join(strings.Fields(l.desc), " "); d != "" {
			b.WriteString(": " + d)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func pageMarkdown(title, desc, method, path string, frag []byte) []byte {
	var b bytes.Buffer
	b.WriteString("> ## Documentation Index\n> Fetch the complete documentation index at: " + Canonical + "/llms.txt\n")
	b.WriteString("> Use this file to discover all available pages before exploring further.\n\n")
	b.WriteString("# " + title + "\n\n")
	if desc != "" {
		b.WriteString("> " + strings.Join(strings.Fields(desc), " ") + "\n\n")
	}
	b.WriteString("\n\n## OpenAPI\n\n")
	fmt.Fprintf(&b, "````yaml /api-reference/openapi.json %s %s\n", strings.ToLower(method), path)
	b.Write(frag)
	b.WriteString("\n````")
	return b.Bytes()
}

// fragment builds the page's self-contained spec: openapi, info, servers,
// security, tags, the one path (its parameters and servers, that method) and
// components with every schema it reaches plus all security schemes.
func fragment(root, components *yaml.Node, path string, item *yaml.Node, method string, op *yaml.Node) ([]byte, error) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range []string{"openapi", "info", "servers", "security", "tags"} {
		if v := get(root, k); v != nil {
			put(out, k, v)
		}
	}
	pathItem := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range []string{"summary", "description", "servers", "parameters"} {
		if v := get(item, k); v != nil {
			put(pathItem, k, v)
		}
	}
	put(pathItem, method, op)
	paths := &yaml.Node{Kind: yaml.MappingNode}
	put(paths, path, pathItem)
	put(out, "paths", paths)

	if components != nil {
		// Reached definitions in the order they are first reached (as the
		// recorded page lists them), then all security schemes.
		comps := &yaml.Node{Kind: yaml.MappingNode}
		byKind := map[string]*yaml.Node{}
		var kinds []string
		for _, ref := range reachedRefs(components, pathItem) {
			rest, _ := strings.CutPrefix(ref, "#/components/")
			kind, name, _ := strings.Cut(rest, "/")
			target := resolve(components, ref)
			if target == nil || kind == "securitySchemes" {
				continue
			}
			if byKind[kind] == nil {
				byKind[kind] = &yaml.Node{Kind: yaml.MappingNode}
				kinds = append(kinds, kind)
			}
			put(byKind[kind], name, target)
		}
		for _, kind := range kinds {
			put(comps, kind, byKind[kind])
		}
		if schemes := get(components, "securitySchemes"); schemes != nil {
			put(comps, "securitySchemes", schemes)
		}
		if len(comps.Content) > 0 {
			put(out, "components", comps)
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(blockStyle(out)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// reachedRefs returns the component refs reachable from n, transitively,
// in the order they are first reached (depth first).
func reachedRefs(components, n *yaml.Node) []string {
	seen := map[string]bool{}
	var order []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "$ref" && n.Content[i+1].Kind == yaml.ScalarNode {
					ref := n.Content[i+1].Value
					if !seen[ref] {
						seen[ref] = true
						order = append(order, ref)
						if target := resolve(components, ref); target != nil {
							walk(target)
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return order
}

func resolve(components *yaml.Node, ref string) *yaml.Node {
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok || components == nil {
		return nil
	}
	kind, name, ok := strings.Cut(rest, "/")
	if !ok {
		return nil
	}
	if defs := get(components, kind); defs != nil {
		return get(defs, name)
	}
	return nil
}

// blockStyle returns a copy of n in block style (JSON input is flow style).
func blockStyle(n *yaml.Node) *yaml.Node {
	cp := *n
	cp.Style &^= yaml.FlowStyle | yaml.DoubleQuotedStyle
	cp.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		cp.Content[i] = blockStyle(c)
	}
	return &cp
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func put(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func scalar(m *yaml.Node, key string) string {
	if v := get(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func isMethod(s string) bool {
	switch s {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// pagePath applies the docs site's rule.
func pagePath(method, path string, op *yaml.Node) string {
	folder := ""
	if tags := get(op, "tags"); tags != nil && len(tags.Content) > 0 {
		folder = slug(tags.Content[0].Value) + "/"
	}
	name := scalar(op, "summary")
	if strings.TrimSpace(name) == "" {
		parts := []string{method}
		for _, seg := range strings.Split(path, "/") {
			if seg != "" && !strings.HasPrefix(seg, "{") {
				parts = append(parts, seg)
			}
		}
		name = strings.Join(parts, "-")
	}
	return "api-reference/" + folder + slug(name)
}

func slug(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "-")
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune("{}(),.'/", r) {
			return -1
		}
		return r
	}, s)
	return strings.ToLower(s)
}
