package specdrift_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

// A site built from the current spec matches the current spec, with the
// published spec and without it (pages only), docs-only changes included:
// the pages carry every operation faithfully.
func TestDocsCurrentMatchesCurrent(t *testing.T) {
	t.Parallel()
	spec := currentSpec(t)
	for _, noSpec := range []bool{false, true} {
		site, url := newSite(t, spec, docsite.Options{NoSpec: noSpec})
		res := runCheck(t, specdrift.Config{Vendored: spec, VendoredSource: "openapi.json", DocsURL: url, IncludeDocs: true})
		r := res.Report
		if got := r.ExitCode(); got != specdrift.ExitNoDrift {
			t.Fatalf("noSpec=%v: exit %d, want 0; report:\n%s", noSpec, got, textOf(t, r))
		}
		if len(r.Changes) != 0 || len(r.CrossCheck) != 0 || len(r.Unverifiable) != 0 {
			t.Errorf("noSpec=%v: changes %v, cross-check %v, unverifiable %v", noSpec, r.Changes, r.CrossCheck, r.Unverifiable)
		}
		if r.Docs == nil || r.Docs.Pages != len(site.Pages) || r.Docs.Pages != 64 {
			t.Fatalf("noSpec=%v: docs info %+v, want 64 pages", noSpec, r.Docs)
		}
		if r.Docs.SpecUsed == noSpec {
			t.Errorf("noSpec=%v: SpecUsed=%v", noSpec, r.Docs.SpecUsed)
		}
		if want := []string{"api-reference/authentication", "api-reference/introduction"}; !slices.Equal(r.Docs.HandWritten, want) {
			t.Errorf("hand-written pages %v, want %v", r.Docs.HandWritten, want)
		}
		if noSpec {
			if len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "assembled from the index and 64 pages") {
				t.Errorf("notes %q: want the published spec's absence explained", r.Notes)
			}
			if res.LiveSpec != nil {
				t.Error("LiveSpec set without a published spec")
			}
		} else if string(res.LiveSpec) != string(spec) || r.Docs.SpecSHA256 == "" {
			t.Error("LiveSpec is not the published spec as served")
		}
		for _, p := range site.Pages {
			if site.Requests(p.Path) != 1 {
				t.Errorf("%s fetched %d times, want 1", p.Path, site.Requests(p.Path))
			}
		}
		for _, p := range []string{"/api-reference/authentication.md", "/api-reference/introduction.md", "/quickstart.md"} {
			if site.Requests(p) != 0 {
				t.Errorf("%s (not an operation page) was fetched", p)
			}
		}
	}
}

// The vendored 2026-07-27 spec against the current one: the same report in
// --against mode and in docs mode, with and without the published spec.
func TestHistoryDriftModesAgree(t *testing.T) {
	t.Parallel()
	old, cur := testdata(t, history0727), currentSpec(t)
	against := runCheck(t, specdrift.Config{Vendored: old, Against: "../../openapi.json"}).Report
	_, withSpec := newSite(t, cur, docsite.Options{})
	_, pagesOnly := newSite(t, cur, docsite.Options{NoSpec: true})
	docs := runCheck(t, specdrift.Config{Vendored: old, DocsURL: withSpec}).Report
	pages := runCheck(t, specdrift.Config{Vendored: old, DocsURL: pagesOnly}).Report

	for name, r := range map[string]*specdrift.Report{"against": against, "docs": docs, "pages": pages} {
		if r.ExitCode() != specdrift.ExitDrift {
			t.Errorf("%s: exit %d, want 1", name, r.ExitCode())
		}
		if !slices.Equal(sorted(r.Added), addedSince0727) {
			t.Errorf("%s: added %v, want %v", name, r.Added, addedSince0727)
		}
		if len(r.Removed) != 0 {
			t.Errorf("%s: removed %v, want none", name, r.Removed)
		}
		renames := map[string]bool{}
		for _, ch := range r.Changes {
			if ch.Operation == "GET /payment-methods/" {
				if !ch.Breaking || ch.Kind != specdrift.KindParameterRenamed || ch.OperationID != "listPaymentMethods" {
					t.Errorf("%s: payment-methods change %+v: want a breaking rename", name, ch)
				}
				renames[ch.Message] = true
			}
		}
		for _, want := range []string{"`customerId` to `customer_id`", "`customerEmail` to `customer_email`"} {
			found := false
			for m := range renames {
				found = found || strings.Contains(m, want)
			}
			if !found {
				t.Errorf("%s: no rename %s among %v", name, want, renames)
			}
		}
		if r.Summary.Added != 8 || r.Summary.Removed != 0 || r.Summary.Breaking != 2 {
			t.Errorf("%s: summary %+v, want 8 added, 0 removed, 2 breaking", name, r.Summary)
		}
	}
	want := changesJSON(t, against)
	if got := changesJSON(t, docs); got != want {
		t.Errorf("docs mode differs from --against mode:\n%s\nwant\n%s", got, want)
	}
	if got := changesJSON(t, pages); got != want {
		t.Errorf("pages-only docs mode differs from --against mode:\n%s\nwant\n%s", got, want)
	}
}

// The current spec vendored, 2026-07-27 live: 8 operations removed, breaking.
func TestHistoryReverse(t *testing.T) {
	t.Parallel()
	old, cur := testdata(t, history0727), currentSpec(t)
	_, url := newSite(t, old, docsite.Options{NoSpec: true})
	for name, cfg := range map[string]specdrift.Config{
		"against": {Vendored: cur, Against: testdataPath(history0727)},
		"pages":   {Vendored: cur, DocsURL: url},
	} {
		r := runCheck(t, cfg).Report
		if !slices.Equal(sorted(r.Removed), addedSince0727) || len(r.Added) != 0 {
			t.Errorf("%s: removed %v added %v, want the 8 removed", name, r.Removed, r.Added)
		}
		removedBreaking := 0
		for _, ch := range r.Changes {
			if ch.Kind == specdrift.KindOperationRemoved && ch.Breaking {
				removedBreaking++
			}
		}
		if removedBreaking != 8 {
			t.Errorf("%s: %d breaking operation-removed changes, want 8", name, removedBreaking)
		}
	}
}

// The recorded page (2026-06 era) served among pages built from the
// 2026-06-20 spec: no drift against that spec, docs included.
func TestDocsWithRecordedPage(t *testing.T) {
	t.Parallel()
	spec := testdata(t, history0620)
	site := buildSite(t, spec, docsite.Options{NoSpec: true})
	page := site.PageOf("get", "/partner/organizations/")
	if page != "/api-reference/partner/list-partner-organizations.md" {
		t.Fatalf("page of listPartnerOrganizations: %q", page)
	}
	site.Files[page] = testdata(t, "list-partner-organizations.md")
	url := serve(t, site)
	r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: url, IncludeDocs: true}).Report
	if r.ExitCode() != specdrift.ExitNoDrift {
		t.Fatalf("exit %d; report:\n%s", r.ExitCode(), textOf(t, r))
	}
}

// Served under a path prefix (a mirror): links name docs.kelviq.com, pages
// are fetched from the given base.
func TestDocsMirrorWithPathPrefix(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, currentSpec(t))
	site := buildSite(t, spec, docsite.Options{})
	mux := http.NewServeMux()
	mux.Handle("/mirror/", http.StripPrefix("/mirror", site.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: srv.URL + "/mirror/"}).Report
	if r.ExitCode() != 0 || r.Docs.Pages != len(site.Pages) || !r.Docs.SpecUsed {
		t.Fatalf("exit %d, docs %+v", r.ExitCode(), r.Docs)
	}
}

// changesJSON renders what must agree between modes.
func changesJSON(t *testing.T, r *specdrift.Report) string {
	t.Helper()
	data, err := json.MarshalIndent(struct {
		Added, Removed []string
		Changes        []specdrift.Change
		Summary        specdrift.Summary
	}{r.Added, r.Removed, r.Changes, r.Summary}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func textOf(t *testing.T, r *specdrift.Report) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
