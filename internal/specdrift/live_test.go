package specdrift_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/internal/specdrift"
)

// TestLiveDocs checks the vendored spec against the real docs site. It is
// opt-in (network): KELVIQ_LIVE_DOCS=1 go test -run TestLiveDocs -v
// ./internal/specdrift/ (KELVIQ_DOCS_URL overrides the site). It fails when
// the docs cannot be read or a page cannot be verified; drift is logged, not
// a failure (the scheduled workflow reports it).
func TestLiveDocs(t *testing.T) {
	if os.Getenv("KELVIQ_LIVE_DOCS") != "1" {
		t.Skip("set KELVIQ_LIVE_DOCS=1 to check the live docs (network)")
	}
	url := os.Getenv("KELVIQ_DOCS_URL")
	if url == "" {
		url = specdrift.DefaultDocsURL
	}
	res, err := specdrift.Check(context.Background(), specdrift.Config{Vendored: currentSpec(t), VendoredSource: "openapi.json", DocsURL: url})
	if err != nil {
		t.Fatalf("could not check %s: %v", url, err)
	}
	r := res.Report
	var b strings.Builder
	_ = r.WriteText(&b)
	t.Log("\n" + b.String())
	if r.ExitCode() == specdrift.ExitCouldNotCheck {
		t.Errorf("%d docs pages could not be verified", len(r.Unverifiable))
	}
	if r.Docs.Pages == 0 {
		t.Error("no API page read")
	}
}
