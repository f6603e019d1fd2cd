package specdrift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kelviq/kelviq-go/internal/goapi"
)

// Config describes one drift check.
type Config struct {
	// Vendored is the vendored spec (openapi.json).
	Vendored []byte
	// VendoredSource names it in the report and in errors.
	VendoredSource string
	// Against is a full spec to compare with, a path or an http(s) URL. When
	// empty the live docs at DocsURL are read instead.
	Against string
	// DocsURL is the docs root (default DefaultDocsURL).
	DocsURL string
	// IncludeDocs counts docs-only changes as drift and lists them.
	IncludeDocs bool
	// Docs controls the docs mode (and, for an Against URL, Docs.Fetch).
	Docs DocsOptions
	// GoAPI, when set, also compares the Go API of packages api and kelviq
	// (Report.GoAPI): the client generated from the vendored spec (the
	// committed code when it is the module's own openapi.json) with the
	// client regenerated from the live spec (in docs mode the published
	// spec, or the one assembled from the pages).
	GoAPI *goapi.Generator
}

// Result is a report plus what the live side was, for callers that vendor it.
type Result struct {
	// Report is the report.
	Report *Report
	// LiveSpec is the full live spec that was compared, as served: the
	// published spec in docs mode (nil when it did not answer) or the
	// --against document.
	LiveSpec []byte
}

// Check runs one drift check. An error means the check could not be done
// (exit status 2): the vendored spec does not load, the index or the
// --against spec cannot be fetched or parsed, or oasdiff failed; the message
// names the file or URL and the cause. Unverifiable docs pages do not make
// an error: they are in the report, whose ExitCode is then 2.
func Check(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.VendoredSource == "" {
		cfg.VendoredSource = "vendored spec"
	}
	vendored, err := LoadView(cfg.Vendored, cfg.VendoredSource)
	if err != nil {
		return nil, fmt.Errorf("vendored spec: %w", err)
	}
	if cfg.Against != "" {
		return checkAgainst(ctx, cfg, vendored)
	}
	return checkDocs(ctx, cfg, vendored)
}

func checkAgainst(ctx context.Context, cfg Config, vendored *View) (*Result, error) {
	data, err := readSource(ctx, cfg.Against, cfg.Docs.Fetch)
	if err != nil {
		return nil, err
	}
	live, err := LoadView(data, cfg.Against)
	if err != nil {
		return nil, err
	}
	c, err := Compare(vendored, live, CompareOptions{})
	if err != nil {
		return nil, err
	}
	r := newReport(c, cfg.IncludeDocs)
	r.Source, r.Vendored, r.Mode = cfg.Against, cfg.VendoredSource, "against"
	if cfg.GoAPI != nil {
		if r.GoAPI, err = goAPIDiff(ctx, cfg, r, data, cfg.Against); err != nil {
			return nil, err
		}
	}
	return &Result{Report: r, LiveSpec: data}, nil
}

// readSource reads a path or fetches an http(s) URL.
func readSource(ctx context.Context, src string, opt FetchOptions) ([]byte, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return Fetch(ctx, src, opt)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", src)
		}
		return nil, err
	}
	return data, nil
}

func checkDocs(ctx context.Context, cfg Config, vendored *View) (*Result, error) {
	base := cfg.DocsURL
	if base == "" {
		base = DefaultDocsURL
	}
	docs, err := FetchDocs(ctx, base, cfg.Docs)
	if err != nil {
		return nil, err
	}
	unknown := docs.guessOperations(docs.Spec, vendored)

	var (
		live        *View
		notes       []string
		liveUnknown map[OpKey]bool // operations the live view cannot tell about
	)
	if docs.Spec != nil {
		live = docs.Spec // complete: an unverifiable page hides nothing from it
	} else {
		live, liveUnknown = docs.PagesView, unknown
		if docs.SpecURL != "" {
			notes = append(notes, fmt.Sprintf("the published spec was not used (%s); the live view was assembled from the index and %d pages",
				docs.SpecError, len(docs.Pages)))
		}
	}
	if live.Len() == 0 {
		return nil, fmt.Errorf("docs %s: no API page could be read (%d unverifiable) and the published spec was not usable: nothing to compare with",
			docs.Base, len(docs.Unverifiable))
	}
	c, err := Compare(vendored, live, CompareOptions{Unknown: liveUnknown})
	if err != nil {
		return nil, err
	}
	r := newReport(c, cfg.IncludeDocs)
	r.Source, r.Vendored, r.Mode = docs.Base, cfg.VendoredSource, "docs"
	r.Unverifiable = append(r.Unverifiable, docs.Unverifiable...)
	r.Summary.Unverifiable = len(r.Unverifiable)
	r.Notes = append(r.Notes, notes...)
	r.Notes = append(r.Notes, docs.Notes...)
	if len(docs.NoFragment) > 0 {
		r.Notes = append(r.Notes, "api-reference pages without an OpenAPI fragment (not operation pages): "+strings.Join(docs.NoFragment, ", "))
	}
	info := &DocsInfo{
		Index: docs.IndexURL, Entries: len(docs.Entries), Duplicates: docs.Duplicates, Pages: len(docs.Pages),
		HandWritten: append([]string{}, docs.HandWritten...),
		Spec:        docs.SpecURL, SpecUsed: docs.Spec != nil, SpecError: docs.SpecError,
	}
	if docs.Spec != nil {
		sum := sha256.Sum256(docs.SpecBytes)
		info.SpecSHA256 = hex.EncodeToString(sum[:])
		cross, err := crossCheck(docs, unknown)
		if err != nil {
			return nil, err
		}
		r.CrossCheck = cross
	}
	r.Docs = info
	if cfg.GoAPI != nil {
		live, source := docs.SpecBytes, "the published spec "+docs.SpecURL
		if docs.Spec == nil {
			source = fmt.Sprintf("the spec assembled from %d docs pages of %s", len(docs.Pages), docs.Base)
			if live, err = AssembleSpec(docs.Pages); err != nil {
				return nil, fmt.Errorf("Go API diff: %s: %w", source, err)
			}
			if len(docs.Unverifiable) > 0 {
				r.Notes = append(r.Notes, fmt.Sprintf("the Go API diff regenerated %s: the operations of the %d unverifiable pages are missing from it and show as removed", source, len(docs.Unverifiable)))
			}
		}
		if r.GoAPI, err = goAPIDiff(ctx, cfg, r, live, source); err != nil {
			return nil, err
		}
	}
	return &Result{Report: r, LiveSpec: docs.SpecBytes}, nil
}

// crossCheck compares the pages with the published spec. Documentation
// differences are ignored (pages may render prose differently).
func crossCheck(docs *Docs, unknown map[OpKey]bool) ([]Change, error) {
	c, err := Compare(docs.Spec, docs.PagesView, CompareOptions{Unknown: unknown})
	if err != nil {
		return nil, err
	}
	out := []Change{}
	for _, ch := range c.Changes {
		switch {
		case ch.Level == DocsOnly:
			continue
		case ch.Kind == KindOperationAdded:
			ch.Message = "a page in the index documents this operation but the published spec lacks it"
		case ch.Kind == KindOperationRemoved:
			ch.Message = "the published spec has this operation but the index lists no page for it"
		default:
			ch.Message = "the page differs from the published spec: " + ch.Message
		}
		out = append(out, ch)
	}
	return out, nil
}
