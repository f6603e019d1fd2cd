package goapi

import (
	"context"
	"fmt"
	"go/types"
	"path"
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
		Mode:    packages.NeedName | packages.NeedTypes,
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
