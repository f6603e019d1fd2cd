package kelviqgo_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// snippetImports maps the package names README snippets use to their import
// paths: a snippet imports what it names, as a user copying it would.
var snippetImports = map[string]string{
	"api":          "github.com/kelviq/kelviq-go/api",
	"kelviq":       "github.com/kelviq/kelviq-go/kelviq",
	"kelviqtest":   "github.com/kelviq/kelviq-go/kelviqtest",
	"kelviqotel":   "github.com/kelviq/kelviq-go/kelviqotel",
	"entitlements": "github.com/kelviq/kelviq-go/entitlements",
	"redisstore":   "github.com/kelviq/kelviq-go/entitlements/redisstore",
	"usage":        "github.com/kelviq/kelviq-go/usage",
	"redisoutbox":  "github.com/kelviq/kelviq-go/usage/redisoutbox",
	"webhook":      "github.com/kelviq/kelviq-go/webhook",
	"nullable":     "github.com/kelviq/kelviq-go/nullable",
	"redis":        "github.com/redis/go-redis/v9",
	"context":      "context",
	"errors":       "errors",
	"fmt":          "fmt",
	"http":         "net/http",
	"json":         "encoding/json",
	"log":          "log",
	"os":           "os",
	"slog":         "log/slog",
	"strings":      "strings",
	"testing":      "testing",
	"time":         "time",
	"url":          "net/url",
}

// snippetContext declares, at package level, the names README fragments take
// from the code around them (a client, the request's ctx, an order id …).
// Package-level, so a fragment may declare its own of the same name.
const snippetContext = `
var (
	ctx        context.Context
	client     *kelviq.Client
	orderID    string
	customerID string
	sandboxKey string
	w          http.ResponseWriter
	r          *http.Request
	fulfil     func(context.Context, string) error
)
`

// wrapSnippet turns one README Go block into a Go file: a whole file stays
// as it is, top-level declarations get a package clause, and statements go
// into a function returning error when a top-level return has a value (as in
// a function of the reader's), or nothing when its returns are bare (as in a
// handler).
func wrapSnippet(code string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		return code, nil
	}
	imports := []string{"context", "net/http", "github.com/kelviq/kelviq-go/kelviq"}
	for name, path := range snippetImports {
		if regexp.MustCompile(`\b`+name+`\.`).MatchString(code) && !slices.Contains(imports, path) {
			imports = append(imports, path)
		}
	}
	slices.Sort(imports)
	var head strings.Builder
	head.WriteString("package main\n\nimport (\n")
	for _, p := range imports {
		fmt.Fprintf(&head, "\t%q\n", p)
	}
	head.WriteString(")\n" + snippetContext)
	if strings.HasPrefix(strings.TrimSpace(code), "func ") {
		return head.String() + code + "\n", nil
	}
	// Parse once as a function body to learn its returns and its variables.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", "package p\nfunc _() {\n"+code+"\n}\n", 0)
	if err != nil {
		return "", err
	}
	body := f.Decls[0].(*ast.FuncDecl).Body
	returnsError := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // a closure's returns are its own
		case *ast.ReturnStmt:
			if len(n.Results) > 0 {
				returnsError = true
			}
		}
		return true
	})
	// Mark every variable the fragment declares as used: the code after
	// the fragment is the reader's.
	var uses []string
	for _, st := range body.List {
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			for _, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					uses = append(uses, "\t_ = "+id.Name+"\n")
				}
			}
		}
	}
	var out strings.Builder
	out.WriteString(head.String())
	if returnsError {
		out.WriteString("func snippet() error {\n")
	} else {
		out.WriteString("func snippet() {\n")
	}
	out.WriteString(code + "\n")
	for _, u := range uses {
		out.WriteString(u)
	}
	if returnsError {
		out.WriteString("\treturn nil\n")
	}
	out.WriteString("}\n")
	if !strings.Contains(code, "func main()") {
		out.WriteString("\nfunc main() {}\n")
	}
	return out.String(), nil
}

// snippetImporter reads the compiled export data of the packages snippets
// import (go list -export, offline: the module's own packages and what
// go.mod already pins).
func snippetImporter(t *testing.T, fset *token.FileSet) types.Importer {
	t.Helper()
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	return exportImporter(t, fset, slices.Sorted(maps.Values(snippetImports)))
}

// typeCheckSnippet type-checks one wrapped snippet against the real
// packages, returning its errors ("declared and not used" let through: a
// fragment's result is used by the reader's code that follows it) and,
// when it compiles, its reads of response fields that bypass the accessors
// (accessorProblemsIn).
func typeCheckSnippet(fset *token.FileSet, imp types.Importer, src string) []string {
	f, err := parser.ParseFile(fset, "snippet.go", src, 0)
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	conf := types.Config{Importer: imp, Error: func(err error) {
		if te, ok := err.(types.Error); ok && te.Soft && strings.Contains(te.Msg, "declared and not used") {
			return
		}
		errs = append(errs, err.Error())
	}}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	_, _ = conf.Check("main", fset, []*ast.File{f}, info)
	if len(errs) > 0 {
		return errs
	}
	return accessorProblemsIn(fset, info, []*ast.File{f})
}

// Every ```go block of README.md compiles against the real packages, and
// reads responses through the accessors (as examples/ must, see
// TestExamplesUseAccessors): a user copying one gets the API as it is, not
// as it was, and no nil dereference.
func TestReadmeGoSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module's export data")
	}
	fset := token.NewFileSet()
	imp := snippetImporter(t, fset)
	n := 0
	for _, b := range splitFences(readDoc(t, "README.md")) {
		if !b.code || b.lang != "go" {
			continue
		}
		n++
		src, err := wrapSnippet(strings.Join(b.text, "\n"))
		if err != nil {
			t.Errorf("README.md:%d: the Go block does not parse: %v", b.line, err)
			continue
		}
		for _, e := range typeCheckSnippet(fset, imp, src) {
			t.Errorf("README.md:%d: the Go block: %s\n--- as checked:\n%s", b.line, e, src)
		}
	}
	if n == 0 {
		t.Fatal("README.md has no Go blocks: the fence reader is broken")
	}
}

// The check itself can fail: a snippet naming a method that does not exist,
// or a wrong argument type, is reported.
func TestReadmeSnippetCheckCatchesErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module's export data")
	}
	fset := token.NewFileSet()
	imp := snippetImporter(t, fset)
	for _, bad := range []string{
		"res, err := client.RetrieveCustomerWithResponse(ctx, \"cus_1\")\nif err != nil {\n\treturn err\n}",
		"checker, err := entitlements.New(client)\nallowed := checker.HasAccess(ctx, 42, \"x\")",
		"fmt.Println(webhook.EventNoSuchThing)",
		// Compiles, but panics when the order has no customer.
		"order, err := client.RetrieveOrderWithResponse(ctx, orderID)\nif err != nil {\n\treturn err\n}\nfmt.Println(*order.JSON200.Customer.Email)",
	} {
		src, err := wrapSnippet(bad)
		if err != nil {
			t.Fatal(err)
		}
		if errs := typeCheckSnippet(fset, imp, src); len(errs) == 0 {
			t.Errorf("a broken snippet type-checks:\n%s", src)
		}
	}
	good := "order, err := client.RetrieveOrderWithResponse(ctx, orderID)\nif err != nil {\n\treturn err\n}"
	src, err := wrapSnippet(good)
	if err != nil {
		t.Fatal(err)
	}
	if errs := typeCheckSnippet(fset, imp, src); len(errs) > 0 {
		t.Errorf("a good snippet fails: %v\n%s", errs, src)
	}
}

// Every pkg.Name the README's prose names in code spans (`kelviq.MaxPageSize`,
// `webhook.Verify` …) exists in that package, for the packages of this
// module: a renamed identifier leaves no stale name in the first screen.
func TestReadmeProseNamesExist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module's export data")
	}
	fset := token.NewFileSet()
	imp := snippetImporter(t, fset)
	span := regexp.MustCompile("`([^`\n]+)`")
	name := regexp.MustCompile(`\b([a-z]+)\.([A-Z]\w*)`)
	checked := 0
	for _, b := range splitFences(readDoc(t, "README.md")) {
		if b.code {
			continue
		}
		for i, line := range b.text {
			for _, s := range span.FindAllStringSubmatch(line, -1) {
				for _, m := range name.FindAllStringSubmatch(s[1], -1) {
					path, ok := snippetImports[m[1]]
					if !ok || !strings.HasPrefix(path, "github.com/kelviq/kelviq-go/") {
						continue
					}
					pkg, err := imp.Import(path)
					if err != nil {
						t.Fatal(err)
					}
					checked++
					if obj := pkg.Scope().Lookup(m[2]); obj == nil || !obj.Exported() {
						t.Errorf("README.md:%d: `%s` names %s.%s, which package %s does not declare", b.line+i, s[1], m[1], m[2], path)
					}
				}
			}
		}
	}
	if checked < 5 {
		t.Errorf("checked %d names in README.md's prose: the walk is broken", checked)
	}
}
