package kelviqgo_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every exported identifier of the hand-written packages has a doc comment
// (pkg.go.dev is where users read this library). Generated files are
// skipped: oapi-codegen writes its own.
func TestExportedIdentifiersAreDocumented(t *testing.T) {
	dirs := []string{".", "kelviq", "nullable", "kelviqtest", "webhook", "usage", "entitlements", "entitlements/redisstore", "internal/redistest", "internal/specdrift", "internal/goapi"}
	checked := 0
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go") && !strings.HasSuffix(fi.Name(), ".gen.go")
		}, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			hasPkgDoc := false
			for name, f := range pkg.Files {
				if f.Doc != nil {
					hasPkgDoc = true
				}
				for _, missing := range undocumented(f) {
					t.Errorf("%s: %s has no doc comment", filepath.Join(dir, filepath.Base(name)), missing)
				}
				checked++
			}
			if !hasPkgDoc {
				t.Errorf("package %s (%s) has no package doc comment", pkg.Name, dir)
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked only %d files", checked)
	}
}

func undocumented(f *ast.File) []string {
	var out []string
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv != nil && !exportedRecv(d.Recv) {
				continue
			}
			out = append(out, d.Name.Name)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						out = append(out, s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						// a documented group (const ( // … )) documents its members
						if n.IsExported() && s.Doc == nil && d.Doc == nil && s.Comment == nil {
							out = append(out, n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

func exportedRecv(fl *ast.FieldList) bool {
	t := fl.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}
