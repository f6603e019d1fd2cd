package specdrift_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/internal/goapi"
	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

// The Go API diff tests regenerate and type-check real clients (tens of
// seconds each): they share one Generator, which keeps each regeneration,
// and skip under -short.

var (
	genOnce sync.Once
	gen     *goapi.Generator
	genErr  error
	genWork string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if genWork != "" {
		os.RemoveAll(genWork)
	}
	os.Exit(code)
}

func generator(t *testing.T) *goapi.Generator {
	t.Helper()
	if testing.Short() {
		t.Skip("regenerates and type-checks clients")
	}
	genOnce.Do(func() {
		var root string
		if root, genErr = goapi.FindRoot("."); genErr != nil {
			return
		}
		if genWork, genErr = os.MkdirTemp("", "specdrift-goapi-test-"); genErr != nil {
			return
		}
		gen, genErr = goapi.NewGenerator(context.Background(), root, genWork)
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return gen
}

// goAPICheck runs an against-mode check with the Go API diff.
func goAPICheck(t *testing.T, vendored []byte, vendoredSource, against string) *specdrift.Report {
	t.Helper()
	res, err := specdrift.Check(context.Background(), specdrift.Config{
		Vendored: vendored, VendoredSource: vendoredSource, Against: against, GoAPI: generator(t),
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.Report.GoAPI == nil {
		t.Fatal("no goApi in the report")
	}
	return res.Report
}

// writeSpec writes spec to a temporary file and returns its path.
func writeSpec(t *testing.T, name string, spec []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// logGoAPI logs the findings (quoted in the closing note).
func logGoAPI(t *testing.T, r *specdrift.Report) {
	t.Helper()
	d := r.GoAPI
	t.Logf("spec: %d added, %d removed, %d breaking; Go API: bump %s, %d incompatible, %d compatible (%d by policy)\n%s\nincompatible:\n  %s",
		r.Summary.Added, r.Summary.Removed, r.Summary.Breaking, d.Bump, len(d.Incompatible), len(d.Compatible), len(d.Policy),
		d.Verdict, strings.Join(d.Incompatible, "\n  "))
}

// removedOps8 are the methods the 8 operations added after 2026-07-27 bring
// to ClientWithResponses (one per operation).
var removedOps8 = []string{
	"ListCheckoutSessionEventsWithResponse", "ListCheckoutSessionsWithResponse", "ListOrderEventsWithResponse",
	"ListOrdersWithResponse", "ListTransactionsWithResponse", "ListWebhookEventLogsWithResponse",
	"RetrieveCheckoutSessionWithResponse", "RetrieveOrderWithResponse",
}

func TestGoAPIHistory(t *testing.T) {
	cur := currentSpec(t)
	old0727 := testdata(t, history0727)

	t.Run("2026-06-20 to 2026-07-27", func(t *testing.T) {
		r := goAPICheck(t, testdata(t, history0620), history0620, testdataPath(history0727))
		logGoAPI(t, r)
		d := r.GoAPI
		// Nothing breaks on the wire, but GET /catalog/plans/ gained its
		// first query parameter: its methods now take a params argument:
		// five in api and kelviq.Client's own ListCatalogPlansWithResponse
		// (a method of kelviq, generated, not promoted from api).
		if r.Summary.Breaking != 0 || d.Bump != goapi.BumpMinor || len(d.Incompatible) != 6 ||
			!strings.HasPrefix(d.Verdict, "spec-compatible, Go-incompatible:") {
			t.Errorf("%d breaking on the wire; bump %s, incompatible %q, verdict %q: want 0, minor, the 6 ListCatalogPlans changes", r.Summary.Breaking, d.Bump, d.Incompatible, d.Verdict)
		}
		for _, want := range []string{
			"api: NewListCatalogPlansRequest: changed from func(string) (*net/http.Request, error) to func(string, *ListCatalogPlansParams) (*net/http.Request, error)",
			"kelviq: (*Client).ListCatalogPlansWithResponse: changed from func(context.Context, ...api.RequestEditorFn) (*api.ListCatalogPlansResult, error) to func(context.Context, *api.ListCatalogPlansParams, ...api.RequestEditorFn) (*api.ListCatalogPlansResult, error)",
		} {
			if !slices.Contains(d.Incompatible, want) {
				t.Errorf("incompatible lacks %q", want)
			}
		}
		for _, m := range d.Incompatible {
			if strings.HasPrefix(m, "kelviq: api.") {
				t.Errorf("kelviq's echo of an api change is not collapsed: %q", m)
			}
		}
		if !strings.HasPrefix(d.Old, "the client regenerated for "+history0620) || !strings.HasSuffix(d.New, history0727) {
			t.Errorf("old %q new %q: want both sides regenerated", d.Old, d.New)
		}
	})

	t.Run("2026-07-27 to current", func(t *testing.T) {
		r := goAPICheck(t, old0727, history0727, filepath.Join("..", "..", "openapi.json"))
		logGoAPI(t, r)
		d := r.GoAPI
		if d.Bump != goapi.BumpPatch || len(d.Incompatible) != 0 {
			t.Errorf("bump %s, incompatible %q: want patch and none", d.Bump, d.Incompatible)
		}
		// The 8 added operations, their methods on the generated interfaces
		// compatible by the policy, and said so.
		for _, m := range removedOps8 {
			want := "api: ClientWithResponsesInterface." + m + ": added"
			if !slices.Contains(d.Compatible, want) || !slices.Contains(d.Policy, want) {
				t.Errorf("%q missing from compatible or policy", want)
			}
		}
		if len(d.Policy) != 16 {
			t.Errorf("policy lists %d changes, want 16 (8 operations × 2 interfaces): %q", len(d.Policy), d.Policy)
		}
		// Collapsed: kelviq.Client's method set repeats the embedded api
		// methods; each change is listed once.
		for _, m := range d.Compatible {
			if strings.HasPrefix(m, "kelviq: api.") {
				t.Errorf("duplicate of an api change listed under kelviq: %q", m)
			}
		}
		var text strings.Builder
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), goapi.PolicyNote) {
			t.Error("the text report does not state the interface policy")
		}
	})

	// The /payment-methods/ query renames (customerId → customer_id) break
	// the wire but keep the Go field names (CustomerID, CustomerEmail): the
	// spec diff lists them as breaking, the Go API diff has nothing on
	// ListPaymentMethodsParams, and the report says both in words.
	t.Run("payment-methods renames: spec-breaking, Go-compatible", func(t *testing.T) {
		r := goAPICheck(t, old0727, history0727, filepath.Join("..", "..", "openapi.json"))
		var renames []string
		for _, ch := range r.Changes {
			if ch.Operation == "GET /payment-methods/" && ch.Kind == specdrift.KindParameterRenamed && ch.Breaking {
				renames = append(renames, ch.Message)
			}
		}
		if len(renames) != 2 || r.Summary.Breaking != 2 {
			t.Fatalf("spec-level renames %q, %d breaking: want the 2 renames, breaking", renames, r.Summary.Breaking)
		}
		for _, m := range append(slices.Clone(r.GoAPI.Compatible), r.GoAPI.Incompatible...) {
			if strings.Contains(m, "ListPaymentMethodsParams") {
				t.Errorf("the Go API diff lists %q: the Go field names did not change", m)
			}
		}
		if !strings.HasPrefix(r.GoAPI.Verdict, "spec-breaking, Go-compatible:") {
			t.Errorf("verdict %q", r.GoAPI.Verdict)
		}
		var md strings.Builder
		if err := r.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"renamed the `query` request parameter `customerId` to `customer_id`", "### Go API: bump `patch`", "spec-breaking, Go-compatible"} {
			if !strings.Contains(md.String(), want) {
				t.Errorf("markdown lacks %q", want)
			}
		}
	})

	// current → 2026-07-27: the old side is the committed code (the
	// vendored spec is the module's own), and the 8 operations' removal is
	// incompatible.
	t.Run("reverse: current to 2026-07-27", func(t *testing.T) {
		r := goAPICheck(t, cur, "openapi.json", testdataPath(history0727))
		logGoAPI(t, r)
		d := r.GoAPI
		if d.Bump != goapi.BumpMinor || len(r.Removed) != 8 {
			t.Errorf("bump %s, %d operations removed: want minor and 8", d.Bump, len(r.Removed))
		}
		if !strings.HasPrefix(d.Old, "the committed code in ") {
			t.Errorf("old side %q: want the committed code", d.Old)
		}
		for _, m := range removedOps8 {
			for _, want := range []string{"api: (*ClientWithResponses)." + m + ": removed", "api: ClientWithResponsesInterface." + m + ": removed"} {
				if !slices.Contains(d.Incompatible, want) {
					t.Errorf("incompatible lacks %q", want)
				}
			}
		}
		if !slices.Contains(d.Incompatible, "kelviq: (*Client).ListOrdersIter: removed") {
			t.Errorf("incompatible lacks the removed kelviq iterator")
		}
	})

	// 2026-07-27 plus only additions (current, with the /payment-methods/
	// path item of 2026-07-27): compatible only, bump patch.
	t.Run("pure additions", func(t *testing.T) {
		var doc, old map[string]any
		if err := json.Unmarshal(cur, &doc); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(old0727, &old); err != nil {
			t.Fatal(err)
		}
		doc["paths"].(map[string]any)["/payment-methods/"] = old["paths"].(map[string]any)["/payment-methods/"]
		added, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		r := goAPICheck(t, old0727, history0727, writeSpec(t, "additions.json", added))
		logGoAPI(t, r)
		d := r.GoAPI
		if r.Summary.Breaking != 0 || len(r.Added) != 8 {
			t.Fatalf("spec: %d breaking, %d added: want additions only", r.Summary.Breaking, len(r.Added))
		}
		if d.Bump != goapi.BumpPatch || len(d.Incompatible) != 0 || len(d.Compatible) == 0 || d.Verdict != "spec-compatible, Go-compatible" {
			t.Errorf("bump %s, incompatible %q, %d compatible, verdict %q: want patch, compatible only", d.Bump, d.Incompatible, len(d.Compatible), d.Verdict)
		}
	})

	// The module's own spec against itself: nothing changed, bump none
	// (the regenerated client equals the committed one).
	t.Run("no change", func(t *testing.T) {
		r := goAPICheck(t, cur, "openapi.json", filepath.Join("..", "..", "openapi.json"))
		d := r.GoAPI
		if d.Bump != goapi.BumpNone || len(d.Incompatible)+len(d.Compatible) != 0 {
			t.Errorf("bump %s, %q %q: want none", d.Bump, d.Incompatible, d.Compatible)
		}
	})

	t.Run("JSON shape", func(t *testing.T) {
		r := goAPICheck(t, cur, "openapi.json", testdataPath(history0727))
		var buf strings.Builder
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(buf.String()), &doc); err != nil {
			t.Fatal(err)
		}
		var g map[string]any
		if err := json.Unmarshal(doc["goApi"], &g); err != nil {
			t.Fatalf("goApi %s: %v", doc["goApi"], err)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range g {
				if !yield(k) {
					return
				}
			}
		})
		if want := []string{"bump", "compatible", "incompatible", "new", "old", "policy", "verdict"}; !slices.Equal(keys, want) {
			t.Errorf("goApi keys %q, want %q", keys, want)
		}
		inc, ok1 := g["incompatible"].([]any)
		_, ok2 := g["compatible"].([]any)
		if !ok1 || !ok2 || len(inc) == 0 {
			t.Fatalf("incompatible/compatible are not arrays: %s", doc["goApi"])
		}
		if s, ok := inc[0].(string); !ok || !strings.HasPrefix(s, "api: ") && !strings.HasPrefix(s, "kelviq: ") {
			t.Errorf("an incompatible entry is %v, want \"<package>: <change>\"", inc[0])
		}
		if g["bump"] != "minor" {
			t.Errorf("bump %v", g["bump"])
		}
	})
}

// A regeneration that fails is an error naming the step: the strict overlay
// no longer matching a spec (no DELETE operation with a 204 body to fix),
// and generated code that does not compile (two operationIds that make the
// same Go name).
func TestGoAPIRegenerationFailures(t *testing.T) {
	g := generator(t)
	cur := currentSpec(t)
	var doc map[string]any
	if err := json.Unmarshal(cur, &doc); err != nil {
		t.Fatal(err)
	}
	// A copy of GET /orders/ whose operationId normalises to the same Go
	// name: every generated ListOrders identifier is declared twice.
	paths := doc["paths"].(map[string]any)
	getOrders := maps.Clone(paths["/orders/"].(map[string]any)["get"].(map[string]any))
	getOrders["operationId"] = "list_orders"
	paths["/orders-copy/"] = map[string]any{"get": getOrders}
	clash, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		spec       []byte
		want       []string
	}{
		{"overlay action no longer matches", "small.json", smallSpec(t, cur), []string{"Go API diff, new side: regenerating the client for ", "small.json: oapi-codegen with the committed config, overlay and templates failed"}},
		{"does not compile", "clash.json", clash, []string{"Go API diff, new side: the client regenerated for ", "clash.json does not compile", "ListOrdersResult redeclared"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specdrift.Check(context.Background(), specdrift.Config{
				Vendored: cur, VendoredSource: "openapi.json", Against: writeSpec(t, tc.file, tc.spec), GoAPI: g,
			})
			if err == nil {
				t.Fatal("Check succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// Docs mode regenerates the live view: the published spec when it answers,
// else the spec assembled from the pages. Both give the against-mode diff.
func TestGoAPIDocsMode(t *testing.T) {
	g := generator(t)
	cur, old := currentSpec(t), testdata(t, history0727)
	want := goAPICheck(t, cur, "openapi.json", testdataPath(history0727)).GoAPI
	for _, noSpec := range []bool{false, true} {
		_, url := newSite(t, old, docsite.Options{NoSpec: noSpec})
		res, err := specdrift.Check(context.Background(), specdrift.Config{
			Vendored: cur, VendoredSource: "openapi.json", DocsURL: url, Docs: fastDocs(), GoAPI: g,
		})
		if err != nil {
			t.Fatalf("noSpec=%v: %v", noSpec, err)
		}
		d := res.Report.GoAPI
		if d == nil {
			t.Fatalf("noSpec=%v: no goApi", noSpec)
		}
		wantNew := "the published spec " + url + "/" + specdrift.PublishedSpecPath
		if noSpec {
			wantNew = "the spec assembled from 56 docs pages of " + url
		}
		if d.New != "the client regenerated for "+wantNew {
			t.Errorf("noSpec=%v: new side %q, want %q", noSpec, d.New, wantNew)
		}
		if d.Bump != want.Bump || !slices.Equal(d.Incompatible, want.Incompatible) || !slices.Equal(d.Compatible, want.Compatible) {
			t.Errorf("noSpec=%v: bump %s, %d incompatible, %d compatible; against mode: %s, %d, %d\nonly here: %q\nonly there: %q", noSpec,
				d.Bump, len(d.Incompatible), len(d.Compatible), want.Bump, len(want.Incompatible), len(want.Compatible),
				onlyIn(d.Incompatible, want.Incompatible), onlyIn(want.Incompatible, d.Incompatible))
		}
	}
}

func onlyIn(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
