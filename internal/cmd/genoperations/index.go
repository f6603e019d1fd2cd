package main

import (
	"bytes"
	"cmp"
	"fmt"
	"go/format"
	"net/url"
	"slices"
	"strings"
	"text/template"

	"github.com/kelviq/kelviq-go/internal/specdrift"
)

// Entry is one operation of the index: its row of the table and what the
// docs site says of it.
type Entry struct {
	Operation
	Summary    string
	Tag        string // the first tag; "Other" without one
	Credential string // "server key", "partner key", "server key or partner key", "none"
	Host       string // "core" or "edge"
	Docs       string // the docs page URL
}

// Hosts are the production hosts of core and edge operations, for the
// index's legend.
type Hosts struct{ Core, Edge string }

// hosts reads them from the table: the top-level servers, and the servers of
// the first edge operation ("" when there is none).
func hosts(t *Table) Hosts {
	host := func(u string) string {
		if parsed, err := url.Parse(u); err == nil {
			return parsed.Host
		}
		return u
	}
	h := Hosts{Core: host(t.Core.Production)}
	for _, op := range t.Operations {
		if op.Edge {
			h.Edge = host(op.Servers.Production)
			break
		}
	}
	return h
}

// Group is the operations of one tag.
type Group struct {
	Tag     string
	Entries []Entry
}

// Index groups the table's operations by their first tag (tags sorted,
// operations in table order), with the docs page of each by the docs site's
// slug rule (specdrift.PagePaths, the rule the drift checker verifies).
func Index(t *Table, spec []byte, source string) ([]Group, error) {
	view, err := specdrift.LoadView(spec, source)
	if err != nil {
		return nil, err
	}
	pages := map[specdrift.OpKey]string{}
	for page, key := range specdrift.PagePaths(view) {
		// Escaped: the page path is made from the spec's text, which may
		// hold newlines and spaces, and the URL is written into comments.
		pages[key] = strings.TrimSuffix(specdrift.DefaultDocsURL, "/") + (&url.URL{Path: "/" + page}).EscapedPath()
	}
	byTag := map[string][]Entry{}
	for _, op := range t.Operations {
		key := specdrift.OpKey{Method: op.Method, Path: op.Path}
		v := view.Ops[key]
		if v == nil || pages[key] == "" {
			return nil, fmt.Errorf("%s (%s %s): not found by the docs page rule", op.ID, op.Method, op.Path)
		}
		e := Entry{Operation: op, Summary: strings.TrimRight(oneLine(v.Summary), "."), Tag: "Other", Host: "core", Docs: pages[key]}
		if len(v.Tags) > 0 && oneLine(v.Tags[0]) != "" {
			e.Tag = oneLine(v.Tags[0])
		}
		if op.Edge {
			e.Host = "edge"
		}
		if e.Credential, err = credential(t, op.Security); err != nil {
			return nil, fmt.Errorf("%s: %w", op.ID, err)
		}
		byTag[e.Tag] = append(byTag[e.Tag], e)
	}
	var groups []Group
	for tag, entries := range byTag {
		groups = append(groups, Group{Tag: tag, Entries: entries})
	}
	slices.SortFunc(groups, func(a, b Group) int { return cmp.Compare(a.Tag, b.Tag) })
	return groups, nil
}

// oneLine folds the spec's text (a summary, a tag) onto one line: it is
// written into Go comments (api/doc.go) and Markdown table cells, where a
// newline from the spec would end the comment and put the rest of the text
// into the Go source as code.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// credential names the key an operation takes as package kelviq does
// (kelviq/routing.go): an http bearer scheme is the server key, an apiKey
// header the partner key.
func credential(t *Table, security []string) (string, error) {
	if len(security) == 0 {
		return "none", nil
	}
	var names []string
	for _, name := range security {
		i := slices.IndexFunc(t.Schemes, func(s Scheme) bool { return s.Name == name })
		if i < 0 {
			return "", fmt.Errorf("security scheme %q is not in the table", name)
		}
		switch t.Schemes[i].Type {
		case "http":
			names = append(names, "server key")
		case "apiKey":
			names = append(names, "partner key")
		}
	}
	return strings.Join(names, " or "), nil
}

// RenderDoc returns the Go source of the package doc of package api: the
// operation index, gofmt'ed.
func RenderDoc(t *Table, groups []Group, pkg string) ([]byte, error) {
	var buf bytes.Buffer
	if err := docTmpl.Execute(&buf, struct {
		Package string
		Groups  []Group
		Count   int
		Hosts   Hosts
	}{pkg, groups, count(groups), hosts(t)}); err != nil {
		return nil, err
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the package doc: %w\n%s", err, buf.Bytes())
	}
	return src, nil
}

// RenderIDs returns the Go source of the Op<GoName> constants: every
// operationId, for the APIs that name an operation.
func RenderIDs(t *Table, pkg string) ([]byte, error) {
	var buf bytes.Buffer
	if err := idsTmpl.Execute(&buf, struct {
		Package    string
		Operations []Operation
	}{pkg, t.Operations}); err != nil {
		return nil, err
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the operation ids: %w\n%s", err, buf.Bytes())
	}
	return src, nil
}

// RenderMarkdown returns API.md: the same index as the package doc.
func RenderMarkdown(t *Table, groups []Group) ([]byte, error) {
	var buf bytes.Buffer
	err := mdTmpl.Execute(&buf, struct {
		Groups []Group
		Count  int
		Hosts  Hosts
	}{groups, count(groups), hosts(t)})
	return buf.Bytes(), err
}

func count(groups []Group) int {
	n := 0
	for _, g := range groups {
		n += len(g.Entries)
	}
	return n
}

var docTmpl = template.Must(template.New("doc").Parse(`// Code generated by internal/cmd/genoperations from openapi.json. DO NOT EDIT.

// Package {{.Package}} is the kelviq API as generated from kelviq's OpenAPI spec
// (openapi.json): the request and response types, [ClientWithResponses] and
// the operation table ([Operations]) that package
// [github.com/kelviq/kelviq-go/kelviq] routes, authenticates and judges every
// call by. Call the operations through [github.com/kelviq/kelviq-go/kelviq.Client],
// which embeds [ClientWithResponses]: client.ListCustomersWithResponse(ctx, params).
//
// Each XxxWithResponse method returns an XxxResult whose JSONnnn field is
// the decoded body for status nnn. Almost every field of a response is a
// pointer or a [github.com/kelviq/kelviq-go/nullable.Nullable] because the spec
// marks almost nothing required: read them with the generated accessors.
// Every field X of a model type has GetX() on the pointer receiver, which
// returns the zero value when the field is absent or null or the receiver is
// nil, and a nested object as a pointer, so that calls chain without a nil
// check:
//
//	res, err := client.CreateCustomerWithResponse(ctx, body)
//	if err != nil { … }
//	fmt.Println(res.JSON201.GetCustomerID(), res.JSON201.GetBillingAddress().GetCity())
//
// A declared response header reads the same way, through the HeadersNNN
// of its status: res.GetHeaders302().GetLocation() (downloadCatalogPlanFile),
// "" when the header or the 302 is absent.
//
// In a request body, a field left unset is left out of the JSON: only what
// the caller sets is sent (Nullable's SetNull sends an explicit null). A
// property without a type (interface{}) left nil, plain or typed, is not
// sent either; json.RawMessage("null") sends an explicit null.
//
// Every operation's operationId is a constant Op<GoName> (e.g.
// [OpListCustomers]), for the APIs that name an operation. The same index
// is API.md at the root of the repository.
//
// # Operations
//
// The {{.Count}} operations, by the spec's first tag: the method of
// [ClientWithResponses] (and so of kelviq.Client), the HTTP method and path,
// the key it takes (the server key, kelviq.WithServerKey, or the partner key,
// kelviq.WithPartnerKey), its host (core: {{.Hosts.Core}}; edge:
// {{.Hosts.Edge}}, kelviq's low-latency host), the page iterator of a
// page-numbered list, and its page of the API reference.
{{- range .Groups}}
//
// # {{.Tag}}
//
{{- range .Entries}}
//   - [ClientWithResponses.{{.GoName}}WithResponse]{{if .Summary}}: {{.Summary}}{{end}}.
//     {{.Method}} {{.Path}}, {{.Credential}}, {{.Host}} host, [Op{{.GoName}}].
{{- if .Paginated}}
//     Iterator: [github.com/kelviq/kelviq-go/kelviq.Client.{{.GoName}}Iter].
{{- end}}
//     {{.Docs}}
{{- end}}
{{- end}}
package {{.Package}}
`))

var idsTmpl = template.Must(template.New("ids").Parse(`// Code generated by internal/cmd/genoperations from openapi.json. DO NOT EDIT.

package {{.Package}}

// The operationId of every operation, as the spec spells it, for the APIs
// that name an operation (package kelviqtest, kelviq.Error's Operation).
const (
{{- range .Operations}}
	// Op{{.GoName}} is {{.Method}} {{.Path}} ([ClientWithResponses.{{.GoName}}WithResponse]).
	Op{{.GoName}} = {{printf "%q" .ID}}
{{- end}}
)
`))

var mdTmpl = template.Must(template.New("md").Parse(`<!-- Code generated by internal/cmd/genoperations from openapi.json. DO NOT EDIT. -->

# API index

Every operation of the kelviq API in kelviq-go ({{.Count}}), by the spec's first
tag. Call them on ` + "`kelviq.Client`" + ` (it embeds ` + "`api.ClientWithResponses`" + `):
` + "`client.ListCustomersWithResponse(ctx, params)`" + `. Read responses with the
generated nil-safe accessors: ` + "`res.JSON200.GetEmail()`" + `.

- **Credential**: the server key (` + "`kelviq.WithServerKey`" + `) or the partner key
  (` + "`kelviq.WithPartnerKey`" + `); the client sends each operation only the key it names.
- **Host**: core ({{.Hosts.Core}}) or edge ({{.Hosts.Edge}}); the sandbox
  has both too. The client picks it.
- **Iterator**: a method of ` + "`kelviq.Client`" + ` walking every page of a list.
- **operationId**: the spec's name of the operation; the constant ` + "`api.Op<GoName>`" + ` holds it.

The same index is the doc of package ` + "`api`" + ` (` + "`go doc github.com/kelviq/kelviq-go/api`" + `).
{{range .Groups}}
## {{.Tag}}

| Method | HTTP | Credential | Host | Iterator | operationId | Docs |
|---|---|---|---|---|---|---|
{{- range .Entries}}
| ` + "`{{.GoName}}WithResponse`" + ` | ` + "`{{.Method}} {{.Path}}`" + ` | {{.Credential}} | {{.Host}} | {{if .Paginated}}` + "`{{.GoName}}Iter`" + `{{end}} | ` + "`{{.ID}}`" + ` | [{{if .Summary}}{{.Summary}}{{else}}page{{end}}]({{.Docs}}) |
{{- end}}
{{end}}`))
