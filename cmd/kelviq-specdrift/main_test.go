package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

const (
	currentPath = "../../openapi.json"
	oldPath     = "../../testdata/spec/2026-07-27-418f24d.json"
)

func site(t *testing.T, specPath string, opt docsite.Options) (*docsite.Site, string) {
	t.Helper()
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := docsite.Build(spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// smallSpec writes a copy of the spec at path keeping only a few paths (all
// components), so that most cases run a full check quickly.
func smallSpec(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	kept := map[string]any{}
	for _, p := range []string{"/partner/organizations/", "/orders/", "/entitlements/"} {
		kept[p] = paths[p]
	}
	doc["paths"] = kept
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "small-"+filepath.Base(path))
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	small := smallSpec(t, currentPath)
	_, cur := site(t, currentPath, docsite.Options{})
	_, smallURL := site(t, small, docsite.Options{})
	broken, brokenURL := site(t, small, docsite.Options{})
	broken.Faults[broken.PageOf("get", "/orders/")] = docsite.Fault{Status: http.StatusNotFound}
	_, noIndexURL := site(t, small, docsite.Options{NoSpec: true})
	// The same spec with one description reworded: a docs-only change.
	data, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	reworded := filepath.Join(t.TempDir(), "reworded.json")
	data = bytes.Replace(data, []byte("Returns organizations owned by the authenticated partner."), []byte("Lists the partner's organizations."), 1)
	if err := os.WriteFile(reworded, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fast := []string{"--timeout", "10s", "--retries", "1"}

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no drift", []string{"--spec", small, "--docs", smallURL}, 0, "spec drift: no drift", ""},
		{"drift", []string{"--spec", oldPath, "--docs", cur}, 1, "summary:    8 added, 0 removed, 5 changed, 2 breaking", ""},
		{"drift against file", []string{"--spec", oldPath, "--against", currentPath}, 1, "8 added, 0 removed", ""},
		{"no drift against file", []string{"--spec", small, "--against", small}, 0, "no drift", ""},
		{"no docs-only change either", []string{"--spec", small, "--against", small, "--include-docs"}, 0, "no drift", ""},
		{"docs-only is not drift", []string{"--spec", small, "--against", reworded}, 0, "(1 docs-only changes not counted; --include-docs counts them)", ""},
		{"docs-only with --include-docs", []string{"--spec", small, "--against", reworded, "--include-docs"}, 1, "DOCS-ONLY    docs-changed: documentation changed: descriptions", ""},
		{"unverifiable page", []string{"--spec", small, "--docs", brokenURL}, 2, "could not verify (1)", "could not check 1 docs page(s):\n  " + brokenURL + "/api-reference/orders/list-orders.md: GET " + brokenURL + "/api-reference/orders/list-orders.md: HTTP 404 Not Found"},
		{"index 404", []string{"--spec", small, "--docs", noIndexURL + "/elsewhere"}, 2, "", "could not check: docs index: GET " + noIndexURL + "/elsewhere/llms.txt: HTTP 404 Not Found"},
		{"unreachable docs", []string{"--spec", currentPath, "--docs", "http://127.0.0.1:1", "--retries", "0"}, 2, "", "could not check: docs index: GET http://127.0.0.1:1/llms.txt: "},
		{"missing spec", []string{"--spec", "nope.json", "--docs", cur}, 2, "", "could not check: --spec: open nope.json: no such file or directory"},
		{"against missing", []string{"--spec", currentPath, "--against", "nope.json"}, 2, "", "could not check: nope.json: no such file"},
		{"against and docs", []string{"--against", currentPath, "--docs", cur}, 2, "", "--against and --docs are exclusive"},
		{"bad format", []string{"--format", "xml"}, 2, "", `--format "xml": want text, json or markdown`},
		{"bad flag", []string{"--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"extra args", []string{"openapi.json"}, 2, "", "unexpected arguments: openapi.json"},
		{"bad concurrency", []string{"--concurrency", "0"}, 2, "", "--concurrency 0"},
		{"index over the cap", []string{"--spec", small, "--docs", smallURL, "--max-index-entries", "5"}, 2, "",
			"could not check: docs index " + smallURL + "/llms.txt: the index lists more than 5 distinct pages, the cap (line 10 is over it): no page fetched"},
		{"bad index cap", []string{"--max-index-entries", "0"}, 2, "", "--max-index-entries 0: want at least 1"},
		{"help", []string{"-help"}, 0, "", "Exit status: 0 no drift, 1 drift, 2 could not check."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append(tc.args, fast...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

// --format json on stdout, and the report files and the live spec written
// alongside, as the workflow uses them.
func TestOutputs(t *testing.T) {
	t.Parallel()
	_, url := site(t, currentPath, docsite.Options{})
	dir := t.TempDir()
	jsonPath, mdPath, live := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md"), filepath.Join(dir, "live.json")
	code, stdout, stderr := runCLI(t, "--spec", oldPath, "--docs", url, "--format", "json",
		"--report-json", jsonPath, "--report-md", mdPath, "--save-live", live)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r specdrift.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	if !r.Drift || r.Source != url || r.Summary.Added != 8 || r.Summary.Breaking != 2 || r.Mode != "docs" || !r.Docs.SpecUsed {
		t.Errorf("report %+v", r)
	}
	file, err := os.ReadFile(jsonPath)
	if err != nil || string(file) != stdout {
		t.Errorf("--report-json differs from stdout (%v)", err)
	}
	md, err := os.ReadFile(mdPath)
	if err != nil || !strings.HasPrefix(string(md), "## Spec drift: drift, 2 breaking") {
		t.Errorf("--report-md: %v %.80q", err, md)
	}
	saved, err := os.ReadFile(live)
	want, _ := os.ReadFile(currentPath)
	if err != nil || !bytes.Equal(saved, want) {
		t.Errorf("--save-live did not write the published spec as served (%v)", err)
	}

	// Without a published spec there is nothing to save.
	_, pagesOnly := site(t, currentPath, docsite.Options{NoSpec: true})
	live2 := filepath.Join(dir, "live2.json")
	if code, _, stderr := runCLI(t, "--spec", oldPath, "--docs", pagesOnly, "--format", "markdown", "--save-live", live2); code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(live2); !os.IsNotExist(err) {
		t.Errorf("--save-live wrote a file without a published spec: %v", err)
	}
}

// Without --spec: openapi.json in the working directory, else the embedded
// copy (the spec the module was built with).
func TestDefaultSpec(t *testing.T) {
	data, source, err := readVendored("")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(currentPath)
	if !bytes.Equal(data, want) || !strings.Contains(source, "embedded") {
		t.Errorf("source %q, %d bytes", source, len(data))
	}
	if _, _, err := readVendored("missing.json"); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("error %v", err)
	}
}

// scripts/update-spec.sh vendors a spec and rewrites OPENAPI_VERSION,
// keeping its comment lines.
func TestUpdateSpecScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	root := t.TempDir()
	script, err := os.ReadFile("../../scripts/update-spec.sh")
	if err != nil {
		t.Fatal(err)
	}
	version, err := os.ReadFile("../../OPENAPI_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "scripts"), 0o755))
	must(os.WriteFile(filepath.Join(root, "scripts", "update-spec.sh"), script, 0o755))
	must(os.WriteFile(filepath.Join(root, "OPENAPI_VERSION"), version, 0o644))
	must(os.WriteFile(filepath.Join(root, "openapi.json"), []byte(`{"openapi": "3.0.0"}`), 0o644))
	newSpec, _ := os.ReadFile(oldPath)
	must(os.WriteFile(filepath.Join(root, "new.json"), newSpec, 0o644))

	cmd := exec.Command("bash", "scripts/update-spec.sh", "new.json", "https://docs.kelviq.com")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SPEC_DATE=2026-09-01")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("update-spec.sh: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(root, "openapi.json"))
	if !bytes.Equal(got, newSpec) {
		t.Error("openapi.json is not the new spec byte for byte")
	}
	rec, _ := os.ReadFile(filepath.Join(root, "OPENAPI_VERSION"))
	var comments []string
	for _, l := range strings.Split(string(version), "\n") {
		if strings.HasPrefix(l, "#") {
			comments = append(comments, l)
		}
	}
	want := strings.Join(comments, "\n") + "\n" + strings.Join([]string{
		"repository: https://docs.kelviq.com",
		"path: api-reference/openapi.json",
		"commit: unknown (fetched from the published docs)",
		"date: 2026-09-01",
		"sha256: a71f87442bce1b11106c6a07e8cc165cf65a7af437ad61f84e7bb8edd5f18c2c",
	}, "\n") + "\n"
	if string(rec) != want {
		t.Errorf("OPENAPI_VERSION:\n%s\nwant:\n%s", rec, want)
	}

	// Refuses something that is not a JSON OpenAPI document.
	must(os.WriteFile(filepath.Join(root, "bad.json"), []byte("<html>"), 0o644))
	cmd = exec.Command("bash", "scripts/update-spec.sh", "bad.json", "https://docs.kelviq.com")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "bad.json") {
		t.Errorf("accepted a non-spec: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "openapi.json")); !bytes.Equal(got, newSpec) {
		t.Error("a refused spec changed openapi.json")
	}
}

// --go-api: a regeneration that fails is exit 2 naming the step (here the
// strict overlay no longer matching a spec cut down to a few GET paths).
// The diffs themselves are tested in internal/specdrift.
func TestGoAPIRegenerationFailureExit2(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator")
	}
	small := smallSpec(t, currentPath)
	code, _, stderr := runCLI(t, "--spec", currentPath, "--against", small, "--go-api")
	if code != 2 || !strings.Contains(stderr, "could not check: Go API diff, new side: regenerating the client for "+small+": oapi-codegen with the committed config, overlay and templates failed") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// --changelog adds the report's entry under "## [Unreleased]" on drift,
// and leaves the file alone without drift.
func TestChangelogEntry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "CHANGELOG.md")
	orig := "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-01\n\n### Added\n\n- First release.\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "--spec", currentPath, "--against", currentPath, "--changelog", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(path); string(got) != orig {
		t.Errorf("changed without drift:\n%s", got)
	}
	if code, _, stderr := runCLI(t, "--spec", oldPath, "--against", currentPath, "--changelog", path); code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(path)
	want := "# Changelog\n\n## [Unreleased]\n\n### Changed\n\n- Regenerated from the upstream spec (" + currentPath +
		"): 8 operation(s) added, 0 removed, 5 changed, 2 breaking on the wire.\n\n## [0.1.0] - 2026-11-01\n\n### Added\n\n- First release.\n"
	if string(got) != want {
		t.Errorf("CHANGELOG.md:\n%s\nwant:\n%s", got, want)
	}
	// A second entry joins the same subsection.
	if code, _, _ := runCLI(t, "--spec", oldPath, "--against", currentPath, "--changelog", path); code != 1 {
		t.Fatal("second run")
	}
	got2, _ := os.ReadFile(path)
	entry := "- Regenerated from the upstream spec (" + currentPath + "): 8 operation(s) added, 0 removed, 5 changed, 2 breaking on the wire.\n"
	if want2 := strings.Replace(want, entry, entry+entry, 1); string(got2) != want2 {
		t.Errorf("after a second entry:\n%s\nwant:\n%s", got2, want2)
	}
	// No Unreleased heading: exit 2 naming it.
	if err := os.WriteFile(path, []byte("# Changelog\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "--spec", oldPath, "--against", currentPath, "--changelog", path); code != 2 || !strings.Contains(stderr, `no "## [Unreleased]" heading`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
