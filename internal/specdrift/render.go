package specdrift

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// verdict is the one-line outcome.
func (r *Report) verdict() string {
	switch {
	case len(r.Unverifiable) > 0:
		return fmt.Sprintf("could not check %d docs page(s)", len(r.Unverifiable))
	case !r.Drift:
		return "no drift"
	case r.Summary.Breaking > 0:
		return fmt.Sprintf("drift, %d breaking", r.Summary.Breaking)
	}
	return "drift, nothing breaking"
}

func (r *Report) liveDescription() string {
	if r.Docs == nil {
		return r.Source
	}
	if r.Docs.SpecUsed {
		return fmt.Sprintf("%s (published spec %s, cross-checked with %d pages)", r.Source, r.Docs.Spec, r.Docs.Pages)
	}
	return fmt.Sprintf("%s (index and %d pages; published spec not used)", r.Source, r.Docs.Pages)
}

func (r *Report) summaryLine() string {
	s := fmt.Sprintf("%d added, %d removed, %d changed, %d breaking",
		r.Summary.Added, r.Summary.Removed, r.Summary.Changed, r.Summary.Breaking)
	if r.Summary.DocsOnly > 0 && !r.IncludeDocs {
		s += fmt.Sprintf(" (%d docs-only changes not counted; --include-docs counts them)", r.Summary.DocsOnly)
	}
	if r.Summary.Unverifiable > 0 {
		s += fmt.Sprintf("; %d docs pages could not be verified", r.Summary.Unverifiable)
	}
	return s
}

// changedOperations groups the changes of operations both sides have.
func (r *Report) changedOperations() (order []string, byOp map[string][]Change) {
	byOp = map[string][]Change{}
	for _, ch := range r.Changes {
		if ch.Kind == KindOperationAdded || ch.Kind == KindOperationRemoved {
			continue
		}
		if _, ok := byOp[ch.Operation]; !ok {
			order = append(order, ch.Operation)
		}
		byOp[ch.Operation] = append(byOp[ch.Operation], ch)
	}
	return order, byOp
}

func (r *Report) operationIDs() map[string]string {
	ids := map[string]string{}
	for _, ch := range r.Changes {
		if ch.OperationID != "" {
			ids[ch.Operation] = ch.OperationID
		}
	}
	return ids
}

// WriteText renders the report for a terminal or a CI log.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("spec drift: %s\n", r.verdict())
	p("vendored:   %s\n", r.Vendored)
	p("live:       %s\n", r.liveDescription())
	p("summary:    %s\n", r.summaryLine())
	ids := r.operationIDs()
	withID := func(op string) string {
		if id := ids[op]; id != "" {
			return op + " (" + id + ")"
		}
		return op
	}
	if len(r.Added) > 0 {
		p("\nadded operations (%d):\n", len(r.Added))
		for _, op := range r.Added {
			p("  + %s\n", withID(op))
		}
	}
	if len(r.Removed) > 0 {
		p("\nremoved operations (%d, breaking):\n", len(r.Removed))
		for _, op := range r.Removed {
			p("  - %s\n", withID(op))
		}
	}
	order, byOp := r.changedOperations()
	if len(order) > 0 {
		p("\nchanged operations (%d):\n", len(order))
		for _, op := range order {
			p("  %s\n", withID(op))
			for _, ch := range byOp[op] {
				p("    %-12s %s: %s\n", strings.ToUpper(string(ch.Level)), ch.Kind, ch.Message)
			}
		}
	}
	if len(r.Unverifiable) > 0 {
		p("\ncould not verify (%d):\n", len(r.Unverifiable))
		for _, u := range r.Unverifiable {
			p("  ! %s%s: %s\n", u.Page, mdParen(u.Operation), u.Error)
		}
	}
	if len(r.CrossCheck) > 0 {
		p("\npages disagreeing with the published spec (%d, not counted as drift):\n", len(r.CrossCheck))
		for _, ch := range r.CrossCheck {
			p("  ~ %s: %s: %s\n", ch.Operation, ch.Kind, ch.Message)
		}
	}
	writeGoAPIText(bw, r.GoAPI)
	if len(r.Notes) > 0 {
		p("\nnotes:\n")
		for _, n := range r.Notes {
			p("  - %s\n", n)
		}
	}
	return bw.Flush()
}

// WriteMarkdown renders the report as GitHub-flavoured markdown, ready to be
// a pull request body or a job summary.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("## Spec drift: %s\n\n", r.verdict())
	p("Vendored `%s` compared with %s.\n\n", r.Vendored, mdLive(r))
	p("| Added | Removed | Changed | Breaking | Docs-only | Unverifiable |\n|---:|---:|---:|---:|---:|---:|\n")
	docs := fmt.Sprint(r.Summary.DocsOnly)
	if !r.IncludeDocs && r.Summary.DocsOnly > 0 {
		docs += " (not counted)"
	}
	p("| %d | %d | %d | %d | %s | %d |\n\n", r.Summary.Added, r.Summary.Removed, r.Summary.Changed, r.Summary.Breaking, docs, r.Summary.Unverifiable)

	if len(r.Unverifiable) > 0 {
		p("### Could not verify\n\nThese docs pages are listed by the index but could not be fetched or parsed, so the check is incomplete (exit status 2):\n\n")
		for _, u := range r.Unverifiable {
			p("- %s%s: %s\n", u.Page, mdParen(u.Operation), mdCell(u.Error))
		}
		p("\n")
	}
	// The Go API section comes first: it is what a reviewer of the
	// regeneration decides on, and it survives a truncated PR body.
	writeGoAPIMarkdown(bw, r.GoAPI)
	var breaking, other []Change
	for _, ch := range r.Changes {
		switch {
		case ch.Kind == KindOperationAdded:
		case ch.Breaking:
			breaking = append(breaking, ch)
		default:
			other = append(other, ch)
		}
	}
	if len(breaking) > 0 {
		p("### Breaking for users of the Go client\n\n")
		changeTable(bw, breaking)
	}
	if len(r.Added) > 0 {
		ids := r.operationIDs()
		p("### Added operations\n\n")
		for _, op := range r.Added {
			p("- `%s`%s\n", op, mdParen(codeOrEmpty(ids[op])))
		}
		p("\n")
	}
	if len(other) > 0 {
		p("### Other changes\n\n")
		changeTable(bw, other)
	}
	if !r.Drift && len(r.Unverifiable) == 0 {
		p("The vendored spec matches the live one.\n\n")
	}
	if len(r.CrossCheck) > 0 {
		p("<details><summary>Docs pages disagreeing with the published spec (%d, not counted as drift)</summary>\n\n", len(r.CrossCheck))
		changeTable(bw, r.CrossCheck)
		p("</details>\n\n")
	}
	if len(r.Notes) > 0 {
		p("<details><summary>Notes</summary>\n\n")
		for _, n := range r.Notes {
			p("- %s\n", mdCell(n))
		}
		p("\n</details>\n\n")
	}
	p("<sub>Generated by `kelviq-specdrift` (internal/specdrift). Breaking (spec level) means: code written against the generated Go client may stop compiling, or its calls are no longer understood, go to another host or carry other credentials; the Go API section, with --go-api, says what stops compiling.</sub>\n")
	return bw.Flush()
}

func mdLive(r *Report) string {
	if r.Docs == nil {
		return "`" + r.Source + "`"
	}
	if r.Docs.SpecUsed {
		return fmt.Sprintf("the live docs at %s (published spec `%s`, cross-checked with %d pages)", r.Source, r.Docs.Spec, r.Docs.Pages)
	}
	return fmt.Sprintf("the live docs at %s (index and %d pages; the published spec was not used)", r.Source, r.Docs.Pages)
}

func changeTable(w io.Writer, cs []Change) {
	fmt.Fprint(w, "| Operation | operationId | Level | Change | Details |\n|---|---|---|---|---|\n")
	for _, ch := range cs {
		fmt.Fprintf(w, "| `%s` | %s | %s | `%s` | %s |\n", ch.Operation, codeOrEmpty(ch.OperationID), ch.Level, ch.Kind, mdCell(ch.Message))
	}
	fmt.Fprint(w, "\n")
}

func codeOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

// mdParen returns " (s)", or "" for an empty s.
func mdParen(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// mdCell makes text safe for a table cell or a list item.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return s
}
