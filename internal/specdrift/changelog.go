package specdrift

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// UnreleasedHeading is the Keep a Changelog heading entries go under.
const UnreleasedHeading = "## [Unreleased]"

// ChangelogEntry is the CHANGELOG.md line for this report's change: what
// moved in the spec and, with the Go API diff, what it does to Go code and
// the version bump it calls for.
func (r *Report) ChangelogEntry() string {
	s := fmt.Sprintf("- Regenerated from the upstream spec (%s): %d operation(s) added, %d removed, %d changed, %d breaking on the wire",
		r.Source, r.Summary.Added, r.Summary.Removed, r.Summary.Changed, r.Summary.Breaking)
	if d := r.GoAPI; d != nil {
		s += fmt.Sprintf("; Go API: %d incompatible, %d compatible change(s), bump %s (%s)",
			len(d.Incompatible), len(d.Compatible), d.Bump, strings.SplitN(d.Verdict, ":", 2)[0])
	}
	return s + "."
}

// InsertUnreleased adds entry under "### Changed" of the Unreleased section
// of a Keep a Changelog document (the subsection is created when missing).
// It fails when the document has no Unreleased heading.
func InsertUnreleased(changelog []byte, entry string) ([]byte, error) {
	lines := strings.SplitAfter(string(changelog), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), UnreleasedHeading) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("no %q heading", UnreleasedHeading)
	}
	end := len(lines) // the next release heading
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "## ") {
			end = i
			break
		}
	}
	at, sub := -1, false
	for i := start + 1; i < end; i++ {
		if strings.TrimSpace(lines[i]) == "### Changed" {
			sub, at = true, i+1
			for at < end && strings.TrimSpace(lines[at]) == "" {
				at++
			}
			for at < end && (strings.HasPrefix(lines[at], "- ") || strings.HasPrefix(lines[at], "  ")) {
				at++ // after the subsection's last item (and its continuation lines)
			}
			break
		}
	}
	insert := entry + "\n"
	if sub && at < len(lines) && strings.TrimSpace(lines[at]) != "" {
		insert += "\n" // the subsection had no items: keep a blank line before what follows
	}
	if !sub {
		at = start + 1
		insert = "\n### Changed\n\n" + insert
		if at < len(lines) && strings.TrimSpace(lines[at]) != "" {
			insert += "\n"
		}
	}
	var b bytes.Buffer
	for _, l := range lines[:at] {
		b.WriteString(l)
	}
	if at > 0 && !strings.HasSuffix(lines[at-1], "\n") {
		b.WriteString("\n")
	}
	b.WriteString(insert)
	for _, l := range lines[at:] {
		b.WriteString(l)
	}
	return b.Bytes(), nil
}

// AddChangelogEntry adds the report's entry to the changelog file at path.
func AddChangelogEntry(path string, r *Report) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--changelog: %w", err)
	}
	out, err := InsertUnreleased(data, r.ChangelogEntry())
	if err != nil {
		return fmt.Errorf("--changelog %s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
