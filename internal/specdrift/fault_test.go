package specdrift_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

// The index failing is fatal: an error naming the URL and the cause.
func TestIndexFailures(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, currentSpec(t))
	for _, tc := range []struct {
		name     string
		fault    docsite.Fault
		want     string
		requests int
	}{
		{"404", docsite.Fault{Status: http.StatusNotFound}, "HTTP 404 Not Found", 1},
		{"500", docsite.Fault{Status: http.StatusInternalServerError}, "HTTP 500 Internal Server Error (after 2 attempts)", 2},
		{"html", docsite.Fault{Body: []byte("<html><body>Sign in</body></html>")}, "lists no pages", 1},
		{"no api pages", docsite.Fault{Body: []byte("# Docs\n\n- [Home](https://docs.kelviq.com/index.md)\n")}, "none under api-reference/", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := buildSite(t, spec, docsite.Options{NoSpec: true})
			site.Faults["/llms.txt"] = tc.fault
			url := serve(t, site)
			_, err := specdrift.Check(context.Background(), specdrift.Config{Vendored: spec, DocsURL: url, Docs: fastDocs()})
			if err == nil {
				t.Fatal("Check succeeded with a broken index")
			}
			if !strings.Contains(err.Error(), url+"/llms.txt") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want the index URL and %q", err, tc.want)
			}
			if got := site.Requests("/llms.txt"); got != tc.requests {
				t.Errorf("index requested %d times, want %d", got, tc.requests)
			}
		})
	}
}

// An operation page that cannot be fetched or parsed is reported as
// unverifiable (exit status 2), with the operation it documents; it is never
// a clean pass, nor reported as a removed operation. The rest of the report
// stays correct, with the published spec and without it.
func TestPageFailures(t *testing.T) {
	t.Parallel()
	cur, old := smallSpec(t, currentSpec(t)), smallSpec(t, testdata(t, history0727))
	const op = "GET /partner/organizations/"
	added := []string{"GET /orders/", "GET /orders/{id}/"}
	for _, tc := range []struct {
		name  string
		fault docsite.Fault
		want  string
	}{
		{"404", docsite.Fault{Status: http.StatusNotFound}, "HTTP 404 Not Found"},
		{"503 every time", docsite.Fault{Status: http.StatusServiceUnavailable}, "HTTP 503 Service Unavailable (after 2 attempts)"},
		{"timeout", docsite.Fault{Delay: time.Minute}, "timed out after 2s (per-request timeout) (after 2 attempts)"},
		{"no fence", docsite.Fault{Body: []byte("# List partner organizations\n\nSome prose, no fragment.\n")}, "no OpenAPI fragment"},
		{"unterminated fence", docsite.Fault{Body: []byte("# T\n\n````yaml /api-reference/openapi.json get /partner/organizations/\nopenapi: 3.0.0\n")}, "never closed"},
		{"broken yaml", docsite.Fault{Body: []byte("# T\n\n````yaml /api-reference/openapi.json get /partner/organizations/\nopenapi: 3.0.0\npaths: [unclosed\n  - : :\n````\n")}, "not a loadable OpenAPI document"},
		{"wrong operation", docsite.Fault{Body: []byte("# T\n\n````yaml /api-reference/openapi.json get /nope/\nopenapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  /other/:\n    get:\n      responses: {'200': {description: ok}}\n````\n")}, "the fence names GET /nope/ but the fragment has no such operation"},
	} {
		for _, publishedSpec := range []bool{true, false} {
			name := tc.name + "/with published spec"
			if !publishedSpec {
				name = tc.name + "/pages only"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				site := buildSite(t, cur, docsite.Options{NoSpec: !publishedSpec})
				page := site.PageOf("get", "/partner/organizations/")
				site.Faults[page] = tc.fault
				url := serve(t, site)
				opts := fastDocs()
				// Long enough for any healthy loopback page under -race on a
				// busy machine; the faulty page never answers.
				opts.Fetch.Timeout = 2 * time.Second
				res, err := specdrift.Check(context.Background(), specdrift.Config{Vendored: old, DocsURL: url, Docs: opts})
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				r := res.Report
				if r.ExitCode() != specdrift.ExitCouldNotCheck {
					t.Errorf("exit %d, want 2", r.ExitCode())
				}
				if len(r.Unverifiable) != 1 {
					t.Fatalf("unverifiable %+v, want exactly the broken page", r.Unverifiable)
				}
				u := r.Unverifiable[0]
				if u.Page != url+page || u.Operation != op || !strings.Contains(u.Error, tc.want) || !strings.Contains(u.Error, u.Page) {
					t.Errorf("unverifiable %+v: want page %s, operation %s, an error naming the page and %q", u, url+page, op, tc.want)
				}
				if r.Summary.Unverifiable != 1 {
					t.Errorf("summary %+v", r.Summary)
				}
				// The rest of the report is still right.
				if !slices.Equal(sorted(r.Added), added) || len(r.Removed) != 0 || r.Summary.Breaking != 2 {
					t.Errorf("added %v removed %v summary %+v: want %v added, 2 breaking renames", r.Added, r.Removed, r.Summary, added)
				}
				if publishedSpec {
					if len(r.CrossCheck) != 0 {
						t.Errorf("cross-check %+v: the unverifiable page must not show up as missing", r.CrossCheck)
					}
				} else if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "not compared") && strings.Contains(n, op) }) {
					t.Errorf("notes %q: want %s listed as not compared", r.Notes, op)
				}
			})
		}
	}
}

// A page that fails once (5xx) is retried and the check passes.
func TestPageRetriedAfter5xx(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, currentSpec(t))
	site := buildSite(t, spec, docsite.Options{})
	page := site.PageOf("get", "/orders/")
	site.Faults[page] = docsite.Fault{Status: http.StatusBadGateway, Times: 1}
	site.Faults["/llms.txt"] = docsite.Fault{Status: http.StatusServiceUnavailable, Times: 1}
	url := serve(t, site)
	r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: url}).Report
	if r.ExitCode() != 0 {
		t.Fatalf("exit %d, unverifiable %+v", r.ExitCode(), r.Unverifiable)
	}
	if site.Requests(page) != 2 || site.Requests("/llms.txt") != 2 {
		t.Errorf("requests: page %d, index %d; want 2 each", site.Requests(page), site.Requests("/llms.txt"))
	}
}

// The published spec failing (404, 500, not a spec) while the pages are
// fine: the live view comes from the pages and the report is still right.
func TestPublishedSpecFailures(t *testing.T) {
	t.Parallel()
	cur, old := smallSpec(t, currentSpec(t)), smallSpec(t, testdata(t, history0727))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cur.json"), cur, 0o644); err != nil {
		t.Fatal(err)
	}
	want := changesJSON(t, runCheck(t, specdrift.Config{Vendored: old, Against: filepath.Join(dir, "cur.json")}).Report)
	for _, tc := range []struct {
		name  string
		fault docsite.Fault
		why   string
	}{
		{"404", docsite.Fault{Status: http.StatusNotFound}, "HTTP 404"},
		{"500", docsite.Fault{Status: http.StatusInternalServerError}, "HTTP 500"},
		{"not a spec", docsite.Fault{Body: []byte(`{"message": "not found"}`)}, "not an OpenAPI document"},
		{"truncated", docsite.Fault{Body: cur[:len(cur)/2]}, "not a loadable OpenAPI document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			site := buildSite(t, cur, docsite.Options{})
			site.Faults["/"+specdrift.PublishedSpecPath] = tc.fault
			url := serve(t, site)
			res := runCheck(t, specdrift.Config{Vendored: old, DocsURL: url})
			r := res.Report
			if r.ExitCode() != specdrift.ExitDrift || r.Docs.SpecUsed || res.LiveSpec != nil {
				t.Fatalf("exit %d, spec used %v", r.ExitCode(), r.Docs.SpecUsed)
			}
			if !strings.Contains(r.Docs.SpecError, tc.why) || !strings.Contains(r.Docs.SpecError, url) {
				t.Errorf("spec error %q: want the URL and %q", r.Docs.SpecError, tc.why)
			}
			if got := changesJSON(t, r); got != want {
				t.Errorf("report differs from --against mode:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// The overall deadline stops a slow docs site: every page that did not
// finish is reported with the deadline as its cause; the check does not hang.
func TestOverallDeadline(t *testing.T) {
	t.Parallel()
	site := buildSite(t, currentSpec(t), docsite.Options{})
	site.PageDelay = time.Minute // cut short when the client gives up
	url := serve(t, site)
	opts := fastDocs()
	opts.Deadline = 2 * time.Second
	opts.Fetch.Timeout = time.Minute
	opts.SkipSpec = true
	docs, err := specdrift.FetchDocs(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("FetchDocs: %v", err)
	}
	if len(docs.Unverifiable) != 64 || len(docs.Pages) != 0 {
		t.Fatalf("%d unverifiable, %d pages; want all 64 pages unverifiable", len(docs.Unverifiable), len(docs.Pages))
	}
	for _, u := range docs.Unverifiable {
		if !strings.Contains(u.Error, "overall deadline exceeded") || !strings.Contains(u.Error, u.Page) {
			t.Errorf("%s: error %q: want the page and the overall deadline named", u.Page, u.Error)
		}
	}
}

// The index answering but every page failing, without a published spec:
// nothing to compare with is an error, not an empty (all removed) report.
func TestNothingReadable(t *testing.T) {
	t.Parallel()
	spec := currentSpec(t)
	site := buildSite(t, spec, docsite.Options{NoSpec: true})
	for _, p := range site.Pages {
		site.Faults[p.Path] = docsite.Fault{Status: http.StatusForbidden}
	}
	url := serve(t, site)
	_, err := specdrift.Check(context.Background(), specdrift.Config{Vendored: spec, DocsURL: url, Docs: fastDocs()})
	if err == nil || !strings.Contains(err.Error(), "nothing to compare with") {
		t.Fatalf("error %v: want nothing to compare with", err)
	}
}

// Bad inputs give errors naming what was wrong.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, currentSpec(t))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  specdrift.Config
		want string
	}{
		{"vendored not a spec", specdrift.Config{Vendored: []byte("{}"), VendoredSource: "x.json", Against: "x"}, "x.json: not an OpenAPI document"},
		{"vendored empty", specdrift.Config{Vendored: nil, VendoredSource: "x.json"}, "x.json: empty document"},
		{"vendored garbage", specdrift.Config{Vendored: []byte("\x00\x01"), VendoredSource: "x.json"}, "x.json: not a loadable OpenAPI document"},
		{"against missing", specdrift.Config{Vendored: spec, Against: "testdata/nope.json"}, "testdata/nope.json: no such file"},
		{"against not a spec", specdrift.Config{Vendored: spec, Against: testdataPath("list-partner-organizations.md")}, testdataPath("list-partner-organizations.md") + ": not a loadable OpenAPI document"},
		{"docs not a URL", specdrift.Config{Vendored: spec, DocsURL: "docs.kelviq.com"}, `docs URL "docs.kelviq.com": want an http(s) URL`},
		{"against unreachable", specdrift.Config{Vendored: spec, Against: "http://127.0.0.1:1/openapi.json", Docs: specdrift.DocsOptions{Fetch: specdrift.FetchOptions{Retries: -1}}}, "GET http://127.0.0.1:1/openapi.json: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specdrift.Check(ctx, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// Fetch retries 5xx and timeouts, not other 4xx, and caps bodies.
func TestFetch(t *testing.T) {
	t.Parallel()
	site := &docsite.Site{Files: map[string][]byte{"/ok": []byte("hello"), "/big": make([]byte, 2048)}, Faults: map[string]docsite.Fault{
		"/404":  {Status: http.StatusNotFound},
		"/429":  {Status: http.StatusTooManyRequests, Times: 2},
		"/slow": {Delay: time.Minute, Times: 1},
	}}
	site.Files["/429"], site.Files["/slow"] = []byte("after 429"), []byte("after a timeout")
	url := serve(t, site)
	opt := specdrift.FetchOptions{Timeout: time.Second, Retries: 2, Backoff: time.Millisecond, MaxBytes: 1024}
	ctx := context.Background()

	if b, err := specdrift.Fetch(ctx, url+"/ok", opt); err != nil || string(b) != "hello" {
		t.Errorf("ok: %q %v", b, err)
	}
	_, err := specdrift.Fetch(ctx, url+"/404", opt)
	var fe *specdrift.FetchError
	if !errors.As(err, &fe) || fe.Status != 404 || fe.Attempts != 1 || site.Requests("/404") != 1 {
		t.Errorf("404: %v (%+v): want one attempt", err, fe)
	}
	if b, err := specdrift.Fetch(ctx, url+"/429", opt); err != nil || string(b) != "after 429" || site.Requests("/429") != 3 {
		t.Errorf("429: %q %v after %d requests", b, err, site.Requests("/429"))
	}
	if b, err := specdrift.Fetch(ctx, url+"/slow", opt); err != nil || string(b) != "after a timeout" {
		t.Errorf("slow: %q %v", b, err)
	}
	if _, err := specdrift.Fetch(ctx, url+"/big", opt); err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Errorf("big: %v", err)
	}
	if _, err := specdrift.Fetch(ctx, "::bad", opt); err == nil || !strings.Contains(err.Error(), "bad URL") {
		t.Errorf("bad URL: %v", err)
	}
}
