package specdrift_test

import (
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

const recordedURL = "https://docs.kelviq.com/api-reference/partner/list-partner-organizations.md"

func recordedPage(t *testing.T) *specdrift.Page {
	t.Helper()
	page, err := specdrift.ParsePage(testdata(t, "list-partner-organizations.md"), recordedURL)
	if err != nil {
		t.Fatalf("ParsePage: %v", err)
	}
	return page
}

func TestParseRecordedPage(t *testing.T) {
	t.Parallel()
	p := recordedPage(t)
	if p.Title != "List partner organizations" || p.SpecRef != "/api-reference/openapi.json" ||
		p.Key.String() != "GET /partner/organizations/" || p.Op.OperationID != "listPartnerOrganizations" {
		t.Errorf("page %q %q %s %q", p.Title, p.SpecRef, p.Key, p.Op.OperationID)
	}
	if p.Op.Origin != recordedURL {
		t.Errorf("origin %q", p.Op.Origin)
	}
	if got := p.Op.Servers; got.Level != specdrift.LevelTop || len(got.Servers) != 1 || got.Servers[0].URL != "https://api.kelviq.com/api/v1" {
		t.Errorf("servers %+v", got)
	}
	if got := p.Op.Security; got.Level != specdrift.LevelOperation || len(got.Requirements) != 1 || got.Requirements[0]["partnerKeyAuth"] == nil {
		t.Errorf("security %+v", got)
	}
	if len(p.Op.Schemes) != 2 {
		t.Errorf("security schemes %v, want bearerAuth and partnerKeyAuth", p.Op.Schemes)
	}
}

// The recorded page against the vendored (current) operation: nothing
// breaking; the server difference (one production server in the page, sandbox
// and production vendored) is reported, and the x-mint extension the page
// lacks is docs-only.
func TestRecordedPageAgainstVendored(t *testing.T) {
	t.Parallel()
	p := recordedPage(t)
	vendored, err := specdrift.LoadView(currentSpec(t), "openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := specdrift.CompareOperation(vendored.Ops[p.Key], p.Op)
	if err != nil {
		t.Fatal(err)
	}
	var server, docs bool
	for _, ch := range changes {
		t.Logf("%s %s: %s", ch.Level, ch.Kind, ch.Message)
		if ch.Breaking {
			t.Errorf("breaking change %+v", ch)
		}
		if ch.Operation != "GET /partner/organizations/" || ch.OperationID != "listPartnerOrganizations" {
			t.Errorf("change names %q %q", ch.Operation, ch.OperationID)
		}
		switch ch.Kind {
		case specdrift.KindServerRemoved:
			server = strings.Contains(ch.Message, "sandbox server `https://sandboxapi.kelviq.com/api/v1`")
		case specdrift.KindDocsChanged:
			docs = ch.Level == specdrift.DocsOnly && strings.Contains(ch.Message, "x-mint")
		default:
			t.Errorf("unexpected change %+v", ch)
		}
	}
	if !server || !docs {
		t.Errorf("want the sandbox server difference and the x-mint docs change; got %+v", changes)
	}
}

// The recorded page matches the 2026-06-20 spec field for field.
func TestRecordedPageAgainstItsEra(t *testing.T) {
	t.Parallel()
	p := recordedPage(t)
	v, err := specdrift.LoadView(testdata(t, history0620), history0620)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := specdrift.CompareOperation(v.Ops[p.Key], p.Op)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("changes %+v, want none", changes)
	}
}

// Generated pages parse back to operations equal to the spec's, docs
// included (the site used by the offline tests is faithful).
func TestGeneratedPagesRoundTrip(t *testing.T) {
	t.Parallel()
	spec := currentSpec(t)
	v, err := specdrift.LoadView(spec, "openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	site := buildSite(t, spec, docsite.Options{})
	if len(site.Pages) != v.Len() {
		t.Fatalf("%d pages for %d operations", len(site.Pages), v.Len())
	}
	for _, pg := range site.Pages {
		p, err := specdrift.ParsePage(site.Files[pg.Path], pg.Path)
		if err != nil {
			t.Fatal(err)
		}
		changes, err := specdrift.CompareOperation(v.Ops[p.Key], p.Op)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 0 {
			t.Errorf("%s: %+v", pg.Path, changes)
		}
	}
}

func TestParsePageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, page, want string }{
		{"empty", "", "no OpenAPI fragment"},
		{"prose only", "# Authentication\n\nUse a bearer token.\n", "no OpenAPI fragment"},
		{"short fence", "# X\n\n```yaml\nopenapi: 3.0.0\n```\n", "no OpenAPI fragment"},
		{"unterminated", "````yaml /api-reference/openapi.json get /a/\nopenapi: 3.0.0\n", "opened on line 1 is never closed"},
		{"bad header", "````yaml get /a/\nopenapi: 3.0.0\n````\n", `fence header "yaml get /a/"`},
		{"bad method", "````yaml /s.json fetch /a/\nopenapi: 3.0.0\n````\n", `unknown HTTP method "fetch"`},
		{"bad yaml", "````yaml /s.json get /a/\nopenapi: 3.0.0\ninfo: [\n````\n", "not a loadable OpenAPI document"},
		{"no paths", "````yaml /s.json get /a/\nopenapi: 3.0.0\ninfo: {title: t, version: v}\npaths: {}\n````\n", "the spec has no paths"},
		{"external ref", "````yaml /s.json get /a/\nopenapi: 3.0.0\ninfo: {title: t, version: v}\npaths:\n  /a/:\n    get:\n      responses:\n        '200': {$ref: 'http://127.0.0.1:1/x.yaml'}\n````\n", "not a loadable OpenAPI document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specdrift.ParsePage([]byte(tc.page), "https://d/p.md")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "https://d/p.md") {
				t.Errorf("error %v: want %q and the page URL", err, tc.want)
			}
		})
	}
}
