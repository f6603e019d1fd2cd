package goapi

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// check type-checks one file as package path (kelviq imports api).
func check(t *testing.T, path, src string, deps map[string]*types.Package) *types.Package {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importerFunc(func(p string) (*types.Package, error) {
		if pkg, ok := deps[p]; ok {
			return pkg, nil
		}
		return importer.Default().Import(p)
	})}
	pkg, err := conf.Check(path, fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(p string) (*types.Package, error) { return f(p) }

// build makes an API from the sources of api and kelviq (kelviq embeds
// *api.ClientWithResponses, as the real one does).
func build(t *testing.T, source, apiSrc, kelviqSrc string) *API {
	a := check(t, ModulePath+"/api", apiSrc, nil)
	k := check(t, ModulePath+"/kelviq", kelviqSrc, map[string]*types.Package{ModulePath + "/api": a})
	return &API{Source: source, Packages: map[string]*types.Package{"api": a, "kelviq": k}}
}

const kelviqSrc = `package kelviq
import "github.com/kelviq/kelviq-go/api"
type Client struct{ *api.ClientWithResponses }
`

func apiSrc(methods ...string) string {
	var iface, impl strings.Builder
	for _, m := range methods {
		iface.WriteString("\t" + m + "() error\n")
		impl.WriteString("func (*ClientWithResponses) " + m + "() error { return nil }\n")
	}
	return "package api\ntype ClientInterface interface {\n" + iface.String() + "}\n" +
		"type ClientWithResponsesInterface interface {\n" + iface.String() + "}\n" +
		"type OtherInterface interface {\n" + iface.String() + "}\n" +
		"type ClientWithResponses struct{}\n" + impl.String()
}

// A method added to the generated client interfaces is compatible by the
// policy (and listed as such); added to any other interface it stays
// incompatible, as apidiff says. kelviq.Client's method set repeating the
// embedded api methods is collapsed into the api change.
func TestComparePolicyAndCollapse(t *testing.T) {
	old := build(t, "old", apiSrc("ListA"), kelviqSrc)
	cur := build(t, "new", apiSrc("ListA", "ListB"), kelviqSrc)
	d := Compare(old, cur, SpecChange{Changed: true})
	wantPolicy := []string{"api: ClientInterface.ListB: added", "api: ClientWithResponsesInterface.ListB: added"}
	if !slices.Equal(d.Policy, wantPolicy) {
		t.Errorf("policy %q, want %q", d.Policy, wantPolicy)
	}
	if !slices.Equal(d.Incompatible, []string{"api: OtherInterface.ListB: added"}) {
		t.Errorf("incompatible %q: want only the other interface's addition", d.Incompatible)
	}
	for _, w := range append(wantPolicy, "api: (*ClientWithResponses).ListB: added") {
		if !slices.Contains(d.Compatible, w) {
			t.Errorf("compatible %q lacks %q", d.Compatible, w)
		}
	}
	for _, m := range d.Compatible {
		if strings.HasPrefix(m, "kelviq: ") {
			t.Errorf("kelviq repeats an api change: %q", m)
		}
	}
	if d.Bump != BumpMinor || d.Old != "old" || d.New != "new" {
		t.Errorf("bump %s old %s new %s", d.Bump, d.Old, d.New)
	}

	// Removing the method: incompatible, the kelviq method-set echo collapsed.
	d = Compare(cur, old, SpecChange{Changed: true, Breaking: 1})
	for _, m := range d.Incompatible {
		if strings.HasPrefix(m, "kelviq: ") {
			t.Errorf("kelviq repeats an api change: %q", m)
		}
	}
	if !slices.Contains(d.Incompatible, "api: (*ClientWithResponses).ListB: removed") || d.Bump != BumpMinor ||
		!strings.HasPrefix(d.Verdict, "spec-breaking, Go-incompatible") {
		t.Errorf("incompatible %q bump %s verdict %q", d.Incompatible, d.Bump, d.Verdict)
	}
}

// bump: none only when nothing changed at all; a spec change that leaves
// the Go API alone is a patch; the verdict names both levels.
func TestCompareBump(t *testing.T) {
	a := build(t, "a", apiSrc("ListA"), kelviqSrc)
	b := build(t, "b", apiSrc("ListA"), kelviqSrc)
	for _, tc := range []struct {
		spec    SpecChange
		bump    string
		verdict string
	}{
		{SpecChange{}, BumpNone, "spec-compatible, Go-compatible"},
		{SpecChange{Changed: true}, BumpPatch, "spec-compatible, Go-compatible"},
		{SpecChange{Changed: true, Breaking: 2}, BumpPatch, "spec-breaking, Go-compatible: the 2 breaking spec change(s)"},
	} {
		d := Compare(a, b, tc.spec)
		if d.Bump != tc.bump || !strings.HasPrefix(d.Verdict, tc.verdict) || len(d.Compatible)+len(d.Incompatible) != 0 {
			t.Errorf("%+v: bump %s verdict %q, %q %q", tc.spec, d.Bump, d.Verdict, d.Compatible, d.Incompatible)
		}
	}
}

func TestFindRoot(t *testing.T) {
	root, err := FindRoot(".")
	if err != nil || !filepath.IsAbs(root) {
		t.Fatalf("FindRoot: %q %v", root, err)
	}
	if _, err := FindRoot(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not inside the "+ModulePath+" source tree") {
		t.Errorf("outside the tree: %v", err)
	}
}
