package specdrift

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kelviq/kelviq-go/internal/goapi"
)

// Exit statuses of a check (the CLI's contract).
const (
	ExitNoDrift       = 0 // the live spec matches the vendored one
	ExitDrift         = 1 // they differ
	ExitCouldNotCheck = 2 // something needed could not be fetched or parsed
)

// Report is the result of one check. Its JSON form is stable (documented in
// docs/spec-drift.md): fields are only ever added.
type Report struct {
	// Drift is true when there is at least one counted change (docs-only
	// changes count only with IncludeDocs).
	Drift bool `json:"drift"`
	// Source is what the vendored spec was compared with: the docs URL or
	// the --against path or URL.
	Source string `json:"source"`
	// Vendored names the vendored spec.
	Vendored string `json:"vendored"`
	// Mode is "docs" or "against".
	Mode string `json:"mode"`
	// IncludeDocs says whether docs-only changes are counted and listed.
	IncludeDocs bool `json:"includeDocs"`
	// Summary counts what follows.
	Summary Summary `json:"summary"`
	// Added lists operations only the live spec has ("GET /orders/").
	Added []string `json:"added"`
	// Removed lists operations only the vendored spec has.
	Removed []string `json:"removed"`
	// Changes lists the counted changes (see Comparison.Changes).
	Changes []Change `json:"changes"`
	// Unverifiable lists docs index entries that could not be fetched or
	// parsed; any makes the exit status 2.
	Unverifiable []Unverifiable `json:"unverifiable"`
	// CrossCheck lists disagreements between the docs pages and the
	// published spec (docs mode, when the spec answered). They do not
	// change Drift or the exit status.
	CrossCheck []Change `json:"crossCheck"`
	// Docs describes what the docs mode read (absent in against mode).
	Docs *DocsInfo `json:"docs,omitempty"`
	// Notes are remarks for the reader.
	Notes []string `json:"notes"`
	// GoAPI is the Go API diff of packages api and kelviq (only with
	// --go-api): {"incompatible": [...], "compatible": [...], "bump":
	// "minor"|"patch"|"none", ...}. It does not change the exit status.
	GoAPI *goapi.Diff `json:"goApi,omitempty"`
}

// Summary counts a report's findings.
type Summary struct {
	// Added is len(Added).
	Added int `json:"added"`
	// Removed is len(Removed).
	Removed int `json:"removed"`
	// Changed counts operations both sides have with at least one counted change.
	Changed int `json:"changed"`
	// Breaking counts breaking changes (removed operations included).
	Breaking int `json:"breaking"`
	// DocsOnly counts docs-only changes, listed or not.
	DocsOnly int `json:"docsOnly"`
	// Unverifiable is len(Unverifiable).
	Unverifiable int `json:"unverifiable"`
}

// DocsInfo says what the docs mode read.
type DocsInfo struct {
	// Index is the URL of llms.txt.
	Index string `json:"index"`
	// Entries is the number of distinct pages the index lists.
	Entries int `json:"entries"`
	// Duplicates counts index entries naming a page already listed (read once).
	Duplicates int `json:"duplicates"`
	// Pages is the number of operation pages read and parsed.
	Pages int `json:"pages"`
	// HandWritten lists the hand-written api-reference pages (not fetched).
	HandWritten []string `json:"handWritten"`
	// Spec is the published spec's URL.
	Spec string `json:"spec"`
	// SpecUsed is true when the published spec answered and loaded; the
	// comparison then used it and the pages were cross-checked with it.
	// Otherwise the live view was assembled from the index and the pages.
	SpecUsed bool `json:"specUsed"`
	// SpecError says why the published spec was not used.
	SpecError string `json:"specError,omitempty"`
	// SpecSHA256 is the sha256 of the published spec as served.
	SpecSHA256 string `json:"specSha256,omitempty"`
}

// ExitCode maps the report to the CLI's exit status: 2 when an index entry
// could not be verified, else 1 on drift, else 0.
func (r *Report) ExitCode() int {
	switch {
	case len(r.Unverifiable) > 0:
		return ExitCouldNotCheck
	case r.Drift:
		return ExitDrift
	}
	return ExitNoDrift
}

// newReport builds a report from a comparison.
func newReport(c *Comparison, includeDocs bool) *Report {
	r := &Report{
		IncludeDocs:  includeDocs,
		Added:        keyStrings(c.Added),
		Removed:      keyStrings(c.Removed),
		Changes:      []Change{},
		Unverifiable: []Unverifiable{},
		CrossCheck:   []Change{},
		Notes:        []string{},
	}
	changedOps := map[string]bool{}
	for _, ch := range c.Changes {
		if ch.Level == DocsOnly {
			r.Summary.DocsOnly++
			if !includeDocs {
				continue
			}
		}
		r.Changes = append(r.Changes, ch)
		if ch.Breaking {
			r.Summary.Breaking++
		}
		if ch.Kind != KindOperationAdded && ch.Kind != KindOperationRemoved {
			changedOps[ch.Operation] = true
		}
	}
	r.Summary.Added, r.Summary.Removed, r.Summary.Changed = len(r.Added), len(r.Removed), len(changedOps)
	r.Drift = len(r.Changes) > 0
	if len(c.NotCompared) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("not compared, their page could not be read: %s", strings.Join(keyStrings(c.NotCompared), ", ")))
	}
	return r
}

func keyStrings(keys []OpKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Formats accepted by Write.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// Write renders the report in format (text, json or markdown).
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatText:
		return r.WriteText(w)
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatMarkdown, "md":
		return r.WriteMarkdown(w)
	}
	return fmt.Errorf("unknown format %q (want text, json or markdown)", format)
}
