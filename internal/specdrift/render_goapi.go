package specdrift

import (
	"fmt"
	"io"

	"github.com/kelviq/kelviq-go/internal/goapi"
)

// writeGoAPIText renders the Go API section for a terminal.
func writeGoAPIText(w io.Writer, d *goapi.Diff) {
	if d == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("\nGo API (packages %s, golang.org/x/exp/apidiff): bump %s\n", "api, kelviq", d.Bump)
	p("  %s\n", d.Verdict)
	p("  old: %s\n  new: %s\n", d.Old, d.New)
	if len(d.Incompatible) > 0 {
		p("  incompatible (%d):\n", len(d.Incompatible))
		for _, m := range d.Incompatible {
			p("    - %s\n", m)
		}
	}
	if len(d.Compatible) > 0 {
		p("  compatible (%d):\n", len(d.Compatible))
		for _, m := range d.Compatible {
			p("    + %s\n", m)
		}
	}
	if len(d.Incompatible)+len(d.Compatible) == 0 {
		p("  the exported API is unchanged\n")
	}
	if len(d.Policy) > 0 {
		p("  policy (%d of the compatible changes): %s\n", len(d.Policy), goapi.PolicyNote)
	}
}

// writeGoAPIMarkdown renders the Go API section of the markdown report (the
// spec-drift pull request's body).
func writeGoAPIMarkdown(w io.Writer, d *goapi.Diff) {
	if d == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("### Go API: bump `%s`\n\n", d.Bump)
	p("%s.\n\n", mdCell(d.Verdict))
	p("Exported API of packages `api` and `kelviq` compared with golang.org/x/exp/apidiff: %s → %s.\n\n", mdCell(d.Old), mdCell(d.New))
	if len(d.Incompatible) > 0 {
		p("**Incompatible (%d)**\n\n", len(d.Incompatible))
		for _, m := range d.Incompatible {
			p("- `%s`\n", m)
		}
		p("\n")
	}
	if len(d.Compatible) > 0 {
		p("<details><summary>Compatible (%d)</summary>\n\n", len(d.Compatible))
		for _, m := range d.Compatible {
			p("- `%s`\n", m)
		}
		p("\n</details>\n\n")
	}
	if len(d.Incompatible)+len(d.Compatible) == 0 {
		p("The exported API is unchanged.\n\n")
	}
	if len(d.Policy) > 0 {
		p("Policy applied on top of apidiff (%d of the compatible changes): %s.\n\n", len(d.Policy), goapi.PolicyNote)
	}
}
