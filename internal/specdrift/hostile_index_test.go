package specdrift_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

// A hostile index's links choose a path under the docs base and nothing
// else: not the host (another host, userinfo "docs.kelviq.com@evil", a
// scheme-relative link), and not a way out of the base (".." or "."
// segments, percent-encoded or not, empty segments, backslashes). Such
// entries are reported unverifiable, naming why, and never requested.
func TestHostileIndexLinksStayUnderTheDocsBase(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, currentSpec(t))
	site := buildSite(t, spec, docsite.Options{})

	var evilHits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(evil.Close)
	evilHost := strings.TrimPrefix(evil.URL, "http://")

	page := site.PageOf("get", "/orders/") // e.g. /api-reference/orders/list-orders.md
	refused := []string{
		"https://docs.kelviq.com/api-reference/../../admin/secret.md",
		"https://docs.kelviq.com/api-reference/%2e%2e/%2E%2E/admin/other.md",
		"https://docs.kelviq.com/api-reference/orders/..",
		"https://docs.kelviq.com/api-reference/./orders/x.md",
		"https://user:hunter2@" + evilHost + "/api-reference/a//b.md",
		`http://` + evilHost + `/api-reference/t/p\..\..\x.md`,
	}
	var extra strings.Builder
	for i, l := range refused {
		extra.WriteString("- [Hostile " + string(rune('A'+i)) + "](" + l + "): escapes\n")
	}
	// The same page as a real entry, named through other hosts: read once,
	// from the docs base.
	extra.WriteString("- [Userinfo](https://docs.kelviq.com@" + evilHost + page + ")\n")
	extra.WriteString("- [Scheme-relative](//" + evilHost + page + ")\n")
	extra.WriteString("- [IDN](https://döcs.kelviq.com" + page + ")\n")
	site.Files["/llms.txt"] = append(site.Files["/llms.txt"], []byte("\n## Hostile\n\n"+extra.String())...)

	var mu sync.Mutex
	var outside []string
	h := http.StripPrefix("/docs", site.Handler())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.RequestURI, "/docs/") || strings.Contains(r.RequestURI, "..") ||
			strings.Contains(strings.ToLower(r.RequestURI), "%2e") || strings.Contains(r.RequestURI, "//") ||
			strings.Contains(strings.ToLower(r.RequestURI), "%5c") || strings.Contains(r.RequestURI, "/./") {
			mu.Lock()
			outside = append(outside, r.RequestURI)
			mu.Unlock()
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: srv.URL + "/docs"}).Report
	mu.Lock()
	if len(outside) > 0 {
		t.Errorf("requests that leave the docs base or are not clean: %q", outside)
	}
	mu.Unlock()
	if n := evilHits.Load(); n != 0 {
		t.Errorf("the other host received %d requests, want none", n)
	}
	if n := site.Requests(page); n != 1 {
		t.Errorf("%s fetched %d times, want once (its other-host aliases are duplicates)", page, n)
	}
	if r.ExitCode() != specdrift.ExitCouldNotCheck || len(r.Unverifiable) != len(refused) {
		t.Fatalf("exit %d, unverifiable %+v: want exit 2 and the %d refused links", r.ExitCode(), r.Unverifiable, len(refused))
	}
	for _, u := range r.Unverifiable {
		if !strings.Contains(u.Error, "could leave the docs base") || !strings.Contains(u.Error, "index line ") {
			t.Errorf("unverifiable %+v: want the index line and why it was refused", u)
		}
		if strings.Contains(u.Page+u.Error, "hunter2") {
			t.Errorf("unverifiable %+v: the link's password is shown", u)
		}
	}
}

// ParseIndex marks escaping links refused, and Kind never offers them for
// fetching, whatever the caller does with the entries.
func TestParseIndexRefusesEscapingPaths(t *testing.T) {
	t.Parallel()
	index := "- [a](/api-reference/../x.md)\n- [b](/api-reference/t/%2E.)\n- [c](/api-reference/t/p.md)\n- [d](/api-reference/t//p.md)\n"
	entries, err := specdrift.ParseIndex([]byte(index))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"api-reference/../x": true, "api-reference/t/..": true, "api-reference/t/p": false, "api-reference/t//p": true}
	if len(entries) != len(want) {
		t.Fatalf("entries %+v: want %d", entries, len(want))
	}
	for _, e := range entries {
		if refused, ok := want[e.Path]; !ok || refused != (e.Refused != "") {
			t.Errorf("entry %q refused %q: want refused=%v", e.Path, e.Refused, refused)
		}
		if e.Refused != "" && e.Kind(nil) != specdrift.PageOther {
			t.Errorf("entry %q is kind %d: a refused entry must not be fetched", e.Path, e.Kind(nil))
		}
	}
}
