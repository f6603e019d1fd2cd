package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

func TestIndex(t *testing.T) {
	data, err := os.ReadFile("../../../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	table := buildSpec(t)
	groups, err := Index(table, data, "openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(groups); n != len(table.Operations) {
		t.Fatalf("%d entries for %d operations", n, len(table.Operations))
	}
	byID := map[string]Entry{}
	for i, g := range groups {
		if i > 0 && groups[i-1].Tag >= g.Tag {
			t.Errorf("groups not sorted: %q before %q", groups[i-1].Tag, g.Tag)
		}
		for _, e := range g.Entries {
			if e.Tag != g.Tag {
				t.Errorf("%s in group %q has tag %q", e.ID, g.Tag, e.Tag)
			}
			byID[e.ID] = e
		}
	}
	// Pages recorded from the live docs site (../shared/DESIGN.md: the slug
	// rule matched all 49 recorded page URLs).
	want := map[string]Entry{
		"listPartnerOrganizations": {Credential: "partner key", Host: "core", Docs: "https://docs.kelviq.com/api-reference/partner/list-partner-organizations"},
		"getCustomerEntitlements":  {Credential: "server key", Host: "edge"},
		"listCustomers":            {Credential: "server key", Host: "core", Summary: "List customers"},
	}
	for id, w := range want {
		e, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("%s: not in the index", id)
		case e.Credential != w.Credential || e.Host != w.Host:
			t.Errorf("%s: credential %q host %q, want %q %q", id, e.Credential, e.Host, w.Credential, w.Host)
		case w.Docs != "" && e.Docs != w.Docs:
			t.Errorf("%s: docs %s, want %s", id, e.Docs, w.Docs)
		case w.Summary != "" && e.Summary != w.Summary:
			t.Errorf("%s: summary %q, want %q", id, e.Summary, w.Summary)
		}
	}

	// The renderings are valid Go (gofmt'ed by Render*) and Markdown rows.
	for name, render := range map[string]func() ([]byte, error){
		"doc.go": func() ([]byte, error) { return RenderDoc(table, groups, "api") },
		"ids.go": func() ([]byte, error) { return RenderIDs(table, "api") },
	} {
		src, err := render()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ParseComments)
		if err != nil {
			t.Fatalf("%s does not parse: %v", name, err)
		}
		if name == "doc.go" && (f.Doc == nil || !strings.Contains(f.Doc.Text(), "ListPartnerOrganizationsWithResponse")) {
			t.Errorf("doc.go has no package doc naming the operations")
		}
	}
	md, err := RenderMarkdown(table, groups)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "core (api.kelviq.com) or edge (edge.api.kelviq.com)") {
		t.Errorf("API.md does not name the hosts read from the table")
	}
	if n := strings.Count(string(md), "WithResponse` |"); n != len(table.Operations) {
		t.Errorf("API.md has %d operation rows, want %d", n, len(table.Operations))
	}
}

// A scheme the table does not define fails, naming it; no security is "none".
func TestCredentialOfAnUnknownScheme(t *testing.T) {
	table := &Table{Schemes: []Scheme{{Name: "bearerAuth", Type: "http"}}}
	if _, err := credential(table, []string{"other"}); err == nil || !strings.Contains(err.Error(), `"other"`) {
		t.Errorf("error %v, want one naming the scheme", err)
	}
	if c, err := credential(table, nil); err != nil || c != "none" {
		t.Errorf("no security: %q %v, want none", c, err)
	}
}

// A summary or tag with newlines (oapi-codegen accepts them) is folded onto
// one line: written as it is into api/doc.go, it ended the comment and put
// the rest of the text into the Go source.
func TestIndexFoldsSpecTextOntoOneLine(t *testing.T) {
	data, err := os.ReadFile("../../../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	get := doc["paths"].(map[string]any)["/customers/"].(map[string]any)["get"].(map[string]any)
	get["summary"] = "List customers\n\nfunc init() { panic(1) }\n//"
	get["tags"] = []any{"Customers\nvar X = 1"}
	hostile, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	table, err := Build(hostile)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := Index(table, hostile, "hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	src, err := RenderDoc(table, groups, "api")
	if err != nil {
		t.Fatalf("RenderDoc: %v", err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", src, parser.ParseComments)
	if err != nil {
		t.Fatalf("doc.go does not parse: %v", err)
	}
	if len(f.Decls) != 0 {
		t.Errorf("doc.go declares %d things; the spec's text became code", len(f.Decls))
	}
	if !strings.Contains(string(src), "List customers func init() { panic(1) } //") {
		t.Errorf("the summary is not on one line in doc.go")
	}
}
