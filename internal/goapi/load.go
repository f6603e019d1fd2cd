package goapi

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"go/types"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/packages"
)

// API is the exported API of packages api and kelviq of one build.
type API struct {
	// Source says what was built: the committed code or a regeneration.
	Source string
	// Packages maps "api" and "kelviq" to their type-checked packages.
	Packages map[string]*types.Package
}

// load type-checks Packages in the module at dir (compiling them: a package
// that does not compile is an error listing the first compiler messages).
func load(ctx context.Context, dir, source string) (*API, error) {
	cfg := &packages.Config{
		Context: ctx,
		Dir:     dir,
		Mode:    packages.NeedName | packages.NeedTypes | packages.NeedFiles,
		Env:     buildEnv(),
	}
	patterns := make([]string, len(Packages))
	for i, p := range Packages {
		patterns[i] = "./" + p
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("%s: loading packages %s: %w", source, strings.Join(Packages, ", "), err)
	}
	api := &API{Source: source, Packages: map[string]*types.Package{}}
	var errs []string
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			errs = append(errs, cgoLeftOut(p.IgnoredFiles)...)
		}
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
		if p.Types != nil {
			api.Packages[path.Base(p.PkgPath)] = p.Types
		}
	}
	if len(errs) > 0 {
		if len(errs) > 10 {
			errs = append(errs[:10], fmt.Sprintf("… and %d more", len(errs)-10))
		}
		return nil, fmt.Errorf("%s does not compile:\n  %s", source, strings.Join(errs, "\n  "))
	}
	for _, p := range Packages {
		if api.Packages[p] == nil {
			return nil, fmt.Errorf("%s: package %s was not loaded", source, p)
		}
	}
	return api, nil
}

// cgoLeftOut explains the files of a package that does not compile which
// were left out because they import "C": cgo is off for every build here
// (buildEnv), and a spec can make generated code import "C"
// (x-go-type-import), after which the compiler only says what is missing.
func cgoLeftOut(ignored []string) []string {
	var out []string
	for _, f := range ignored {
		if !strings.HasSuffix(f, ".go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, imp := range file.Imports {
			if imp.Path.Value == `"C"` {
				out = append(out, fmt.Sprintf("%s is left out of the build: it imports \"C\", and cgo is off for regenerated code (CGO_ENABLED=0)", filepath.Base(f)))
				break
			}
		}
	}
	return out
}
