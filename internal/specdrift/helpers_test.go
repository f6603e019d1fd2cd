package specdrift_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

const (
	history0620 = "2026-06-20-123df70.json"
	history0727 = "2026-07-27-418f24d.json"
)

// addedSince0727 are the operations upstream added after 2026-07-27.
var addedSince0727 = []string{
	"GET /checkout/sessions/",
	"GET /checkout/sessions/{session_id}/",
	"GET /checkout/sessions/{session_id}/events/",
	"GET /orders/",
	"GET /orders/{id}/",
	"GET /orders/{id}/events/",
	"GET /transaction/",
	"GET /webhook/logs/",
}

// currentSpec is the repository's vendored spec.
func currentSpec(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "openapi.json"))
	if err != nil {
		t.Fatalf("reading the vendored spec: %v", err)
	}
	return data
}

// testdata reads a file of the repository's testdata/ (one copy for every
// package): the earlier upstream specs in testdata/spec, the recorded docs
// page in testdata/docs.
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(testdataPath(name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// testdataPath is the path of a testdata file from this package's folder.
func testdataPath(name string) string {
	dir := "spec"
	if strings.HasSuffix(name, ".md") {
		dir = "docs"
	}
	return filepath.Join("..", "..", "testdata", dir, name)
}

var (
	sitesMu sync.Mutex
	sites   = map[string]*docsite.Site{}
)

// buildSite builds a docs site from spec (cached: tests may change the copy
// they get).
func buildSite(t testing.TB, spec []byte, opt docsite.Options) *docsite.Site {
	t.Helper()
	sum := sha256.Sum256(spec)
	key := fmt.Sprintf("%x/%v", sum, opt.NoSpec)
	sitesMu.Lock()
	defer sitesMu.Unlock()
	site, ok := sites[key]
	if !ok {
		var err error
		if site, err = docsite.Build(spec, opt); err != nil {
			t.Fatal(err)
		}
		sites[key] = site
	}
	return &docsite.Site{Files: maps.Clone(site.Files), Pages: site.Pages, Faults: map[string]docsite.Fault{}}
}

// newSite builds a docs site from spec and serves it on loopback.
func newSite(t testing.TB, spec []byte, opt docsite.Options) (*docsite.Site, string) {
	t.Helper()
	site := buildSite(t, spec, opt)
	return site, serve(t, site)
}

func serve(t testing.TB, site *docsite.Site) string {
	t.Helper()
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// fastDocs are docs options with short timeouts and backoffs for tests.
func fastDocs() specdrift.DocsOptions {
	return specdrift.DocsOptions{
		Fetch:       specdrift.FetchOptions{Timeout: 10 * time.Second, Retries: 1, Backoff: 5 * time.Millisecond},
		Concurrency: 8,
		Deadline:    30 * time.Second,
	}
}

func runCheck(t testing.TB, cfg specdrift.Config) *specdrift.Result {
	t.Helper()
	if cfg.Docs.Deadline == 0 {
		cfg.Docs = fastDocs()
	}
	res, err := specdrift.Check(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return res
}

// smallPaths are the paths of the small specs the fault tests use: between
// 2026-07-27 and now, two operations were added and one parameter pair renamed.
var smallPaths = []string{"/partner/organizations/", "/payment-methods/", "/orders/", "/orders/{id}/", "/entitlements/"}

// smallSpec keeps only smallPaths of a spec (all components stay), so that
// the many fault cases run a full check quickly.
func smallSpec(t testing.TB, spec []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	paths, _ := doc["paths"].(map[string]any)
	kept := map[string]any{}
	for _, p := range smallPaths {
		if item, ok := paths[p]; ok {
			kept[p] = item
		}
	}
	doc["paths"] = kept
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
