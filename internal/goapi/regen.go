package goapi

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Generator regenerates the client for specs, as `make generate` would,
// into temporary modules under its work directory. Results are kept per
// spec (by content), so one Generator shares them between callers.
type Generator struct {
	root, work              string
	codegen, genops, genacc string
	config                  []byte

	mu    sync.Mutex
	cache map[[32]byte]*entry
}

type entry struct {
	once sync.Once
	api  *API
	err  error
}

// NewGenerator prepares regenerations from the source tree at root: it
// locates oapi-codegen (the version pinned in go.mod) and builds our
// operation-table generator into work, a directory the caller owns and
// removes.
func NewGenerator(ctx context.Context, root, work string) (*Generator, error) {
	g := &Generator{root: root, work: work, cache: map[[32]byte]*entry{}}
	out, err := goCmd(ctx, root, "tool", "-n", "oapi-codegen")
	if err != nil {
		return nil, fmt.Errorf("locating oapi-codegen: %w", err)
	}
	g.codegen = strings.TrimSpace(string(out))
	g.genops = filepath.Join(work, "genoperations")
	if _, err := goCmd(ctx, root, "build", "-o", g.genops, "./internal/cmd/genoperations"); err != nil {
		return nil, fmt.Errorf("building the operation-table generator: %w", err)
	}
	g.genacc = filepath.Join(work, "genaccessors")
	if _, err := goCmd(ctx, root, "build", "-o", g.genacc, "./internal/cmd/genaccessors"); err != nil {
		return nil, fmt.Errorf("building the accessor generator: %w", err)
	}
	if g.config, err = os.ReadFile(filepath.Join(root, "api", "oapi-codegen.yaml")); err != nil {
		return nil, fmt.Errorf("the committed generator config: %w", err)
	}
	return g, nil
}

// Root is the source tree's root.
func (g *Generator) Root() string { return g.root }

// Committed type-checks packages api and kelviq as they are in the source
// tree.
func (g *Generator) Committed(ctx context.Context) (*API, error) {
	return load(ctx, g.root, "the committed code in "+g.root)
}

// Regenerate regenerates the client for spec (named source in messages),
// type-checks packages api and kelviq built on it and returns their API. It
// fails, naming the step, when a generator fails (an overlay action that no
// longer matches the spec, for one) or the result does not compile.
func (g *Generator) Regenerate(ctx context.Context, spec []byte, source string) (*API, error) {
	key := sha256.Sum256(spec)
	g.mu.Lock()
	e, ok := g.cache[key]
	if !ok {
		e = &entry{}
		g.cache[key] = e
	}
	g.mu.Unlock()
	e.once.Do(func() { e.api, e.err = g.regenerate(ctx, spec, source) })
	if e.err != nil {
		return nil, e.err
	}
	api := *e.api // the same spec may have come under another name
	api.Source = regeneratedFor(source)
	return &api, nil
}

func (g *Generator) regenerate(ctx context.Context, spec []byte, source string) (*API, error) {
	dir, err := newTempModule(ctx, g.root, g.work)
	if err != nil {
		return nil, fmt.Errorf("regenerating the client for %s: preparing a module: %w", source, err)
	}
	specPath := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return nil, err
	}
	// The committed config, with its paths made absolute (they are relative
	// to the module root, where gen.go runs): output into the temporary
	// module, overlay and templates from the source tree.
	cfg := regexp.MustCompile(`(?m)^output: .*$`).ReplaceAllString(string(g.config), "output: "+filepath.Join(dir, "api", "api.gen.go"))
	cfg = strings.ReplaceAll(cfg, " api/", " "+filepath.Join(g.root, "api")+"/")
	cfgPath := filepath.Join(dir, "oapi-codegen.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if _, err := run(ctx, g.root, g.codegen, "-config", cfgPath, specPath); err != nil {
		return nil, fmt.Errorf("regenerating the client for %s: oapi-codegen with the committed config, overlay and templates failed: %w", source, err)
	}
	// Every generated file that is part of the Go API of api or kelviq,
	// as gen.go writes them (the package doc and API.md are not API).
	if _, err := run(ctx, g.root, g.genops, "-spec", specPath,
		"-out", filepath.Join(dir, "api", "operations.gen.go"),
		"-ids", filepath.Join(dir, "api", "operationids.gen.go"),
		"-client", filepath.Join(dir, "api", "api.gen.go"),
		"-iterators", filepath.Join(dir, "kelviq", "pagination.gen.go"),
		"-guards", filepath.Join(dir, "kelviq", "pathparams.gen.go"),
		"-calls", filepath.Join(dir, "kelviq", "calls.gen.go")); err != nil {
		return nil, fmt.Errorf("regenerating the client for %s: the operation-table generator failed: %w", source, err)
	}
	if _, err := run(ctx, g.root, g.genacc, "-dir", filepath.Join(dir, "api")); err != nil {
		return nil, fmt.Errorf("regenerating the client for %s: the accessor generator failed: %w", source, err)
	}
	return load(ctx, dir, regeneratedFor(source))
}

func regeneratedFor(source string) string { return "the client regenerated for " + source }
