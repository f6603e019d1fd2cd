package kelviq

import (
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/api"
)

// Any value checkPathParam lets through is sent as one escaped segment of
// its own operation's path, and stays below it even on a hostile server
// that decodes %2F, takes '\' and ';' for '/', merges slashes and resolves
// dot segments before routing (what nginx and others do in part).
func FuzzPathParamStaysItsSegment(f *testing.F) {
	for _, s := range []string{"x", ".", "..", "a/..", "../x", "%2e%2e", ".%2e", "a/b", `\`, `..\x`, "..;x", "/", "a//", "\x00", "\u2024\u2024", "..."} {
		f.Add(s)
	}
	const prefix = "/api/catalog/plans/plan/features/"
	f.Fuzz(func(t *testing.T, v string) {
		if checkPathParam("deleteCatalogPlanFeature", "feature_id", v) != nil {
			return
		}
		req, err := api.NewDeleteCatalogPlanFeatureRequest("http://127.0.0.1/api/", "plan", v)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		p := req.URL.EscapedPath()
		seg, ok := strings.CutPrefix(p, prefix)
		seg, ok2 := strings.CutSuffix(seg, "/")
		if !ok || !ok2 || strings.Contains(seg, "/") {
			t.Fatalf("%q sent as %s", v, p)
		}
		if got, err := url.PathUnescape(seg); err != nil || got != v {
			t.Fatalf("%q arrives as %q (%v)", v, got, err)
		}
		// The router's check on the sent path agrees: nothing the
		// builders send is refused as an editor's dot segment.
		if hasDotSegment(strings.TrimPrefix(p, "/api")) {
			t.Fatalf("%q: the router would refuse %s", v, p)
		}
		dec, err := url.PathUnescape(p)
		if err != nil {
			t.Fatal(err)
		}
		resolved := path.Clean(strings.NewReplacer(`\`, "/", ";", "/").Replace(dec)) + "/"
		if !strings.HasPrefix(resolved, prefix) || resolved == prefix {
			t.Fatalf("%q: a normalizing server routes %s as %s", v, p, resolved)
		}
	})
}

func TestHasDotSegment(t *testing.T) {
	for p, want := range map[string]bool{
		"/customers/":                        false,
		"/customers/cus_1/":                  false,
		"/a/.../b/":                          false,
		"/a/.a/a./":                          false,
		"/a/%252e%252e/":                     false, // the value "%2e%2e", escaped
		"/a/a%2Fb/":                          false,
		"/a/a%2F%2Fb/":                       false,
		"/a/x%5Cy%3Bz/":                      false,
		"/a/%2E%2E%2E/":                      false,
		"/catalog/plans/x/features/../":      true,
		"/catalog/plans/x/features/./":       true,
		"/a/..":                              true,
		"/a/%2e%2E/":                         true,
		"/a/.%2e/":                           true,
		"/a/%2e/":                            true,
		"/a/x%2F../":                         true,
		"/a/..%2fx/":                         true,
		"/a/..%5Cx/":                         true,
		"/a/..;x/":                           true,
		`/a/..\x/`:                           true,
		"/a/%2F/":                            true,
		"/a/%2F%5c/":                         true,
		"/a/b/%3B/":                          true,
		"/catalog/plans/x/features/a%2F%2E/": true,
	} {
		if got := hasDotSegment(p); got != want {
			t.Errorf("%s: %v, want %v", p, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { hasDotSegment("/catalog/plans/pro/features/feat%201/") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
