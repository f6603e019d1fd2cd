package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

// The operation index (the package doc, API.md) and the Op<GoName>
// constants cover exactly the operation table: every operation once, with
// its method, path, operationId and a docs page.
func TestOperationIndexCoversTheTable(t *testing.T) {
	doc := readFile(t, "doc.go")
	md := readFile(t, "../API.md")
	for _, op := range api.Operations {
		method := op.GoName + "WithResponse"
		if n := strings.Count(doc, "[ClientWithResponses."+method+"]"); n != 1 {
			t.Errorf("doc.go names %s %d times, want once", method, n)
		}
		row := mdRow(md, method)
		if row == "" {
			t.Errorf("API.md has no row for %s", method)
			continue
		}
		for _, want := range []string{"`" + op.Method + " " + op.Path + "`", "`" + op.ID + "`", "](https://docs.kelviq.com/api-reference/"} {
			if !strings.Contains(row, want) {
				t.Errorf("API.md row of %s lacks %s: %s", method, want, row)
			}
		}
		if iter := "`" + op.GoName + "Iter`"; strings.Contains(row, iter) != op.Paginated {
			t.Errorf("API.md row of %s: iterator shown %t, paginated %t", method, strings.Contains(row, iter), op.Paginated)
		}
		wantHost := "| core |"
		if op.Edge {
			wantHost = "| edge |"
		}
		if !strings.Contains(row, wantHost) {
			t.Errorf("API.md row of %s: want host %s: %s", method, wantHost, row)
		}
	}
	if n := strings.Count(md, "WithResponse` |"); n != len(api.Operations) {
		t.Errorf("API.md has %d rows, the table %d operations", n, len(api.Operations))
	}
	// A page of the recorded docs site (../shared/docs-fixtures).
	if !strings.Contains(mdRow(md, "ListPartnerOrganizationsWithResponse"), "(https://docs.kelviq.com/api-reference/partner/list-partner-organizations)") {
		t.Errorf("listPartnerOrganizations does not link its recorded docs page")
	}
}

func mdRow(md, method string) string {
	for line := range strings.Lines(md) {
		if strings.HasPrefix(line, "| `"+method+"` |") {
			return line
		}
	}
	return ""
}

func TestOperationIDConstants(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "operationids.gen.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
					consts[name.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
		return true
	})
	for _, op := range api.Operations {
		if got := consts["Op"+op.GoName]; got != op.ID {
			t.Errorf("Op%s = %q, want %q", op.GoName, got, op.ID)
		}
	}
	if len(consts) != len(api.Operations) {
		t.Errorf("%d constants for %d operations", len(consts), len(api.Operations))
	}
	// The agreed spelling, usable as an untyped string.
	var s string = api.OpListCustomers
	if s != "listCustomers" {
		t.Errorf("OpListCustomers = %q", s)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The Op constants spell the spec's operationIds, read here from
// openapi.json itself rather than from the table generated beside them:
// every operationId of the spec is the value of exactly one constant, and
// no constant holds anything else.
func TestOperationIDConstantsAreTheSpecs(t *testing.T) {
	data, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for path, item := range spec.Paths {
		for method, raw := range item {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue // the path item's parameters, not an operation
			}
			if want[op.OperationID] {
				t.Errorf("%s %s: operationId %q is not unique in the spec", method, path, op.OperationID)
			}
			want[op.OperationID] = true
		}
	}
	f, err := parser.ParseFile(token.NewFileSet(), "operationids.gen.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // value → constant
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Errorf("%s is not a string literal", name.Name)
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				if other, dup := got[v]; dup {
					t.Errorf("%s and %s both hold %q", other, name.Name, v)
				}
				got[v] = name.Name
			}
		}
		return true
	})
	for id := range want {
		if got[id] == "" {
			t.Errorf("operationId %q of the spec has no Op constant", id)
		}
	}
	for v, name := range got {
		if !want[v] {
			t.Errorf("%s = %q is no operationId of the spec", name, v)
		}
	}
	if len(want) < 50 {
		t.Errorf("read %d operationIds from openapi.json: the walk is broken", len(want))
	}
}
