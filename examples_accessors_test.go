package kelviqgo_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const apiPath = "github.com/kelviq/kelviq-go/api"

// The examples read responses with the generated accessors: no deref
// helper, no explicit *x.Field of a field of package api, and no field read
// through a pointer to a model of package api (res.JSON200.Results panics
// when JSON200 is nil; res.JSON200.GetResults() does not). The files are
// type-checked so that a field read through a pointer is told from one
// through a value. Checked: examples/*/main.go and the Example files of
// every hand-written package.
func TestExamplesUseAccessors(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the examples (go list -export)")
	}
	groups := []struct {
		dir, pkg string
		match    func(name string) bool // the files checked
	}{
		{"examples/quickstart", "main", func(string) bool { return true }},
		{"examples/webhook", "main", func(string) bool { return true }},
		// Only the Example files of these test packages: the other test
		// files use identifiers that in-package test files export.
		{"kelviq", "kelviq_test", isExampleFile},
		{"kelviqtest", "kelviqtest_test", isExampleFile},
		{"entitlements", "entitlements_test", isExampleFile},
		{"entitlements/redisstore", "redisstore_test", isExampleFile},
		{"usage", "usage_test", isExampleFile},
		{"webhook", "webhook_test", isExampleFile},
	}
	fset := token.NewFileSet()
	type parsed struct{ files []*ast.File }
	var all []parsed
	imports := map[string]bool{apiPath: true}
	for _, g := range groups {
		var p parsed
		names, err := filepath.Glob(filepath.Join(g.dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			if f.Name.Name != g.pkg || !g.match(filepath.Base(name)) {
				continue
			}
			p.files = append(p.files, f)
			for _, imp := range f.Imports {
				imports[strings.Trim(imp.Path.Value, `"`)] = true
			}
		}
		if len(p.files) == 0 {
			t.Fatalf("%s: no example file found", g.dir)
		}
		all = append(all, p)
	}
	imp := exportImporter(t, fset, slices.Sorted(func(yield func(string) bool) {
		for k := range imports {
			if !yield(k) {
				return
			}
		}
	}))

	// The check itself must be able to fail: a file doing all three.
	bad, err := parser.ParseFile(fset, "bad_example.go", `package bad

import "github.com/kelviq/kelviq-go/api"

func deref[T any](p *T) T { return *p }

func show(res *api.ListCustomersResult) (string, int) {
	c := res.JSON200.Results[0]
	return *c.CustomerID, len(res.JSON200.Results)
}
`, 0)
	if err != nil {
		t.Fatal(err)
	}
	problems := accessorProblems(t, fset, imp, "bad", []*ast.File{bad})
	if len(problems) != 4 {
		t.Fatalf("the check found %d problems in a file with 4:\n%s", len(problems), strings.Join(problems, "\n"))
	}

	for i, p := range all {
		for _, problem := range accessorProblems(t, fset, imp, groups[i].pkg, p.files) {
			t.Error(problem)
		}
	}
}

func isExampleFile(name string) bool {
	return strings.HasPrefix(name, "example") && strings.HasSuffix(name, "_test.go")
}

// accessorProblems type-checks files and reports a func named
// deref, an explicit dereference of a field of an api type, and a field of
// an api model read through a pointer (the <Op>Result wrappers excepted: a
// call returns a non-nil one with a nil error).
func accessorProblems(t *testing.T, fset *token.FileSet, imp types.Importer, pkg string, files []*ast.File) []string {
	t.Helper()
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: imp}
	if _, err := conf.Check(pkg, fset, files, info); err != nil {
		t.Fatalf("type-checking %s: %v", pkg, err)
	}
	return accessorProblemsIn(fset, info, files)
}

// accessorProblemsIn reports the problems of accessorProblems in files
// type-checked into info.
func accessorProblemsIn(fset *token.FileSet, info *types.Info, files []*ast.File) []string {
	var out []string
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if strings.EqualFold(n.Name.Name, "deref") {
					report(n, "a deref helper: read fields with the generated GetX accessors")
				}
			case *ast.StarExpr:
				sel, ok := ast.Unparen(n.X).(*ast.SelectorExpr)
				if tv := info.Types[n]; ok && tv.IsValue() && fieldOfAPI(info.Selections[sel]) {
					report(n, "*%s dereferences a field of package api: use %s.Get%s()", types.ExprString(sel), types.ExprString(sel.X), sel.Sel.Name)
				}
			case *ast.SelectorExpr:
				s := info.Selections[n]
				if fieldOfAPI(s) && s.Indirect() && !strings.HasSuffix(named(s.Recv()), "Result") {
					report(n, "%s reads a field through a pointer that may be nil: use %s.Get%s()", types.ExprString(n), types.ExprString(n.X), n.Sel.Name)
				}
			}
			return true
		})
	}
	return out
}

// fieldOfAPI reports whether s selects a field of a type of package api.
func fieldOfAPI(s *types.Selection) bool {
	return s != nil && s.Kind() == types.FieldVal && s.Obj().Pkg() != nil && s.Obj().Pkg().Path() == apiPath
}

// named is the name of a (pointer to a) named type, "" for others.
func named(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

// exportImporter is a types.Importer reading the compiler's export data of
// the given packages and their dependencies (go list -export).
func exportImporter(t *testing.T, fset *token.FileSet, paths []string) types.Importer {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-json=ImportPath,Export"}, paths...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	exports := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(string(stdout)))
	for {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(exports[path])
	})
}
