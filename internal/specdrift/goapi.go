package specdrift

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kelviq/kelviq-go/internal/goapi"
)

// goAPIDiff compares the Go API of the client generated from the vendored
// spec (the committed code when the vendored spec is the module's own
// openapi.json) with that of the client regenerated from the live spec.
func goAPIDiff(ctx context.Context, cfg Config, r *Report, live []byte, liveSource string) (*goapi.Diff, error) {
	g := cfg.GoAPI
	var (
		old *goapi.API
		err error
	)
	own, _ := os.ReadFile(filepath.Join(g.Root(), "openapi.json"))
	if own != nil && bytes.Equal(own, cfg.Vendored) {
		old, err = g.Committed(ctx)
	} else {
		old, err = g.Regenerate(ctx, cfg.Vendored, cfg.VendoredSource)
	}
	if err != nil {
		return nil, fmt.Errorf("Go API diff, old side: %w", err)
	}
	cur, err := g.Regenerate(ctx, live, liveSource)
	if err != nil {
		return nil, fmt.Errorf("Go API diff, new side: %w", err)
	}
	return goapi.Compare(old, cur, goapi.SpecChange{
		Changed:  len(r.Changes) > 0 || len(r.Added) > 0 || len(r.Removed) > 0 || r.Summary.DocsOnly > 0,
		Breaking: r.Summary.Breaking,
	}), nil
}
