package specdrift

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestParseIndexLenient(t *testing.T) {
	t.Parallel()
	index := strings.Join([]string{
		"# Kelviq Documentation",
		"",
		"### Docs (deeper heading)",
		"> a quote is not an entry",
		"- [Authentication](https://docs.kelviq.com/api-reference/authentication.md)",
		"- [List partner organizations](https://docs.kelviq.com/api-reference/partner/list-partner-organizations.md): Returns organizations",
		"  owned by the authenticated partner.",
		"* [Create a charge](https://kelviq.mintlify.app/api-reference/charges/create-a-charge.md)",
		"- [Relative](/api-reference/refunds/list-refunds.md): relative link",
		"- [No twin suffix](https://docs.kelviq.com/quickstart)",
		"- [Title with [brackets]](https://docs.kelviq.com/guides/x.md)",
		"- not a link",
		"",
		"## Optional",
		"trailing text after a blank line is no continuation",
	}, "\n")
	entries, err := ParseIndex([]byte(index))
	if err != nil {
		t.Fatal(err)
	}
	want := []IndexEntry{
		{Title: "Authentication", Path: "api-reference/authentication", Line: 5},
		{Title: "List partner organizations", Path: "api-reference/partner/list-partner-organizations", Description: "Returns organizations owned by the authenticated partner.", Line: 6},
		{Title: "Create a charge", Path: "api-reference/charges/create-a-charge", Line: 8},
		{Title: "Relative", Path: "api-reference/refunds/list-refunds", Description: "relative link", Line: 9},
		{Title: "No twin suffix", Path: "quickstart", Line: 10},
		{Title: "Title with [brackets]", Path: "guides/x", Line: 11},
	}
	if len(entries) != len(want) {
		t.Fatalf("got %d entries %+v, want %d", len(entries), entries, len(want))
	}
	for i, w := range want {
		g := entries[i]
		if g.Title != w.Title || g.Path != w.Path || g.Description != w.Description || g.Line != w.Line {
			t.Errorf("entry %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestParseIndexRejectsNonIndex(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "<!doctype html><html><body>Not found</body></html>", "# Kelviq Documentation\n\n## Docs\n"} {
		if _, err := ParseIndex([]byte(in)); err == nil || !strings.Contains(err.Error(), "lists no pages") {
			t.Errorf("%q: error %v", in, err)
		}
	}
}

func TestEntryKindAndTwin(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]PageKind{
		"api-reference/authentication":                     PageHandWritten,
		"api-reference/introduction":                       PageHandWritten,
		"api-reference/errors":                             PageHandWritten, // named by the caller
		"api-reference/partner/list-partner-organizations": PageOperation,
		"api-reference/webhooks/events/order-created":      PageAPIOther,
		"api-reference/changelog":                          PageAPIOther,
		"guides/webhooks":                                  PageOther,
		"api-reference-old/x/y":                            PageOther,
	} {
		e := IndexEntry{Path: path}
		if got := e.Kind(append([]string{"api-reference/errors.md"}, DefaultHandWrittenPages...)); got != want {
			t.Errorf("%s: kind %d, want %d", path, got, want)
		}
	}
	base, _ := url.Parse("http://127.0.0.1:8080/mirror")
	e := IndexEntry{Path: "api-reference/partner/list-partner-organizations"}
	if got, want := e.TwinURL(base), "http://127.0.0.1:8080/mirror/api-reference/partner/list-partner-organizations.md"; got != want {
		t.Errorf("twin %s, want %s", got, want)
	}
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"List partner organizations":                "list-partner-organizations",
		"Get a partner organization by external ID": "get-a-partner-organization-by-external-id",
		"Payment Methods":                           "payment-methods",
		"Retrieve a Subscription":                   "retrieve-a-subscription",
		"Get {id} (v2), the user's/plan.":           "get-id-v2-the-usersplan",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// The page paths of the recorded index excerpt (docs-fixtures/README.md) are
// those the rule gives the current spec's operations.
func TestPagePathsMatchRecordedIndex(t *testing.T) {
	t.Parallel()
	v := loadTestView(t, "../../openapi.json")
	paths := PagePaths(v)
	if len(paths) != 64 {
		t.Fatalf("%d page paths for 64 operations", len(paths))
	}
	for path, op := range map[string]string{
		"api-reference/checkout/create-a-checkout-session":          "POST /checkout/",
		"api-reference/customers/create-a-customer":                 "POST /customers/",
		"api-reference/customers/update-a-customer":                 "PATCH /customers/{customerId}/",
		"api-reference/entitlements/retrieve-customer-entitlements": "GET /entitlements/",
		"api-reference/features/archive-a-feature":                  "DELETE /catalog/features/{pk}/",
		"api-reference/features/create-a-feature":                   "POST /catalog/features/",
		"api-reference/features/list-features":                      "GET /catalog/features/",
		"api-reference/features/retrieve-a-feature":                 "GET /catalog/features/{pk}/",
		"api-reference/license/activate-license":                    "POST /license/activate/",
		"api-reference/license/deactivate-license":                  "POST /license/deactivate/",
		"api-reference/partner/list-partner-organizations":          "GET /partner/organizations/",
	} {
		if got, ok := paths[path]; !ok || got.String() != op {
			t.Errorf("%s: %v (found %v), want %s", path, got, ok, op)
		}
	}
}

// Duplicates are numbered in document order; no summary gives
// <method>-<segments>.
func TestPagePathsDuplicatesAndNoSummary(t *testing.T) {
	t.Parallel()
	spec := `{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {
	  "/b/": {"get": {"tags": ["Things"], "summary": "List things", "responses": {"200": {"description": "ok"}}}},
	  "/a/": {"get": {"tags": ["Things"], "summary": "List things", "responses": {"200": {"description": "ok"}}},
	          "post": {"tags": ["Things"], "summary": "List things", "responses": {"200": {"description": "ok"}}}},
	  "/c/{id}/items/": {"delete": {"tags": ["Other Things"], "responses": {"204": {"description": "ok"}}}}}}`
	v, err := LoadView([]byte(spec), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"api-reference/things/list-things":          "GET /b/",
		"api-reference/things/list-things-1":        "GET /a/",
		"api-reference/things/list-things-2":        "POST /a/",
		"api-reference/other-things/delete-c-items": "DELETE /c/{id}/items/",
	}
	got := PagePaths(v)
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for p, op := range want {
		if got[p].String() != op {
			t.Errorf("%s: %s, want %s", p, got[p], op)
		}
	}
}

func loadTestView(t *testing.T, path string) *View {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadView(data, path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Each page once (whatever host or suffix names it), a duplicate's
// continuation lines dropped, and the cap counting distinct pages only.
func TestParseIndexLimitedDeduplicatesAndCaps(t *testing.T) {
	t.Parallel()
	index := strings.Join([]string{
		"- [A](https://docs.kelviq.com/api-reference/x/a.md): first",
		"  continued.",
		"- [A again](https://kelviq.mintlify.app/api-reference/x/a): second",
		"  not the first's.",
		"* [A once more](/api-reference/x/a.md/)",
		"- [B](https://docs.kelviq.com/api-reference/x/b.md)",
		"- [C](https://docs.kelviq.com/api-reference/x/c.md)",
	}, "\n")
	entries, dups, err := ParseIndexLimited([]byte(index), 3)
	if err != nil || dups != 2 || len(entries) != 3 {
		t.Fatalf("%d entries, %d duplicates, %v: want 3 and 2", len(entries), dups, err)
	}
	if entries[0].Title != "A" || entries[0].Description != "first continued." || entries[1].Path != "api-reference/x/b" {
		t.Errorf("entries %+v", entries)
	}
	_, _, err = ParseIndexLimited([]byte(index), 2)
	var tooLarge *IndexTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Max != 2 || tooLarge.Line != 7 || !strings.Contains(err.Error(), "more than 2 distinct pages") {
		t.Errorf("cap 2: %v", err)
	}
	// A run of continuation lines stops growing the description at the cap.
	long := "- [A](/api-reference/x/a.md)\n" + strings.Repeat("more text on a continuation line\n", 10000)
	entries, _, err = ParseIndexLimited([]byte(long), 0)
	if err != nil || len(entries[0].Description) > maxDescription+64 {
		t.Errorf("description of %d bytes, %v", len(entries[0].Description), err)
	}
}
