package specdrift_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

// The JSON report has the documented shape: every documented field present,
// lists never null, changes with the documented fields.
func TestReportJSONShape(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]*specdrift.Report{
		"drift":    runCheck(t, specdrift.Config{Vendored: testdata(t, history0727), Against: "../../openapi.json"}).Report,
		"no drift": runCheck(t, specdrift.Config{Vendored: currentSpec(t), Against: "../../openapi.json"}).Report,
	} {
		var buf bytes.Buffer
		if err := r.Write(&buf, specdrift.FormatJSON); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for key, kind := range map[string]string{
			"drift": "bool", "source": "string", "vendored": "string", "mode": "string", "includeDocs": "bool",
			"summary": "object", "added": "array", "removed": "array", "changes": "array",
			"unverifiable": "array", "crossCheck": "array", "notes": "array",
		} {
			if got := jsonKind(m[key]); got != kind {
				t.Errorf("%s: %q is %s, want %s", name, key, got, kind)
			}
		}
		summary, _ := m["summary"].(map[string]any)
		for _, key := range []string{"added", "removed", "changed", "breaking", "docsOnly", "unverifiable"} {
			if jsonKind(summary[key]) != "number" {
				t.Errorf("%s: summary.%s missing", name, key)
			}
		}
		changes, _ := m["changes"].([]any)
		for _, c := range changes {
			ch := c.(map[string]any)
			for key, kind := range map[string]string{"operation": "string", "operationId": "string", "kind": "string", "level": "string", "breaking": "bool", "message": "string"} {
				if jsonKind(ch[key]) != kind {
					t.Errorf("%s: change %v: %q is not a %s", name, ch, key, kind)
				}
			}
		}
		if (name == "drift") != m["drift"].(bool) {
			t.Errorf("%s: drift %v", name, m["drift"])
		}
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "bool"
	case string:
		return "string"
	case float64:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return "?"
}

func TestReportTextAndMarkdown(t *testing.T) {
	t.Parallel()
	old := testdata(t, history0727)
	site, url := newSite(t, currentSpec(t), docsite.Options{})
	site.Faults[site.PageOf("get", "/orders/")] = docsite.Fault{Body: []byte("no | fence <here>")}
	r := runCheck(t, specdrift.Config{Vendored: old, VendoredSource: "openapi.json", DocsURL: url}).Report

	var text, md bytes.Buffer
	if err := r.Write(&text, specdrift.FormatText); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(&md, specdrift.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"spec drift: could not check 1 docs page(s)",
		"summary:    8 added, 0 removed, 5 changed, 2 breaking (6 docs-only changes not counted; --include-docs counts them); 1 docs pages could not be verified",
		"  + GET /orders/ (listOrders)",
		"    BREAKING     request-parameter-renamed: renamed the `query` request parameter `customerId` to `customer_id`",
		"could not verify (1):\n  ! " + url + "/api-reference/orders/list-orders.md (GET /orders/): page " + url,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	for _, want := range []string{
		"## Spec drift: could not check 1 docs page(s)",
		"| 8 | 0 | 5 | 2 | 6 (not counted) | 1 |",
		"### Breaking for users of the Go client",
		"| `GET /payment-methods/` | `listPaymentMethods` | breaking | `request-parameter-renamed` |",
		"### Added operations\n\n- `GET /checkout/sessions/` (`listCheckoutSessions`)",
		"### Could not verify",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if err := r.Write(&text, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// Markdown escapes what would break a table.
func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	r := &specdrift.Report{Drift: true, Source: "s", Vendored: "v", Added: []string{}, Removed: []string{},
		Changes: []specdrift.Change{{Operation: "GET /a", Kind: "k", Level: specdrift.NonBreaking, Message: "a | b\nc <script>"}}}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), `a \| b c &lt;script>`) {
		t.Errorf("not escaped:\n%s", md.String())
	}
}

// InsertUnreleased: into an existing "### Changed" (after its items, also
// when it has none yet), or a new one right under the heading; the next
// release is left alone.
func TestInsertUnreleased(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"new subsection", "# C\n\n## [Unreleased]\n\n## [0.1.0]\n- x\n", "# C\n\n## [Unreleased]\n\n### Changed\n\n- E\n\n## [0.1.0]\n- x\n"},
		{"after the items", "## [Unreleased]\n\n### Changed\n\n- a\n  more a\n- b\n\n### Added\n\n- c\n", "## [Unreleased]\n\n### Changed\n\n- a\n  more a\n- b\n- E\n\n### Added\n\n- c\n"},
		{"empty subsection", "## [Unreleased]\n### Changed\n### Added\n- c\n", "## [Unreleased]\n### Changed\n- E\n\n### Added\n- c\n"},
		{"last section, no newline", "## [Unreleased]", "## [Unreleased]\n\n### Changed\n\n- E\n"},
		{"Changed of a release is not Unreleased's", "## [Unreleased]\n\n## [0.1.0]\n\n### Changed\n\n- old\n", "## [Unreleased]\n\n### Changed\n\n- E\n\n## [0.1.0]\n\n### Changed\n\n- old\n"},
	} {
		got, err := specdrift.InsertUnreleased([]byte(tc.in), "- E")
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: %v\n%q\nwant\n%q", tc.name, err, got, tc.want)
		}
	}
	if _, err := specdrift.InsertUnreleased([]byte("# C\n## [0.1.0]\n"), "- E"); err == nil || !strings.Contains(err.Error(), "Unreleased") {
		t.Errorf("no heading: %v", err)
	}
}
