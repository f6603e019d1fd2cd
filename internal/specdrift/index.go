package specdrift

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"strings"
)

// IndexEntry is one page listed by the docs index (llms.txt).
type IndexEntry struct {
	// Title is the link text.
	Title string
	// Link is the link as written (it names the canonical docs domain).
	Link string
	// Path is the page path relative to the docs root, without a leading "/"
	// and without ".md" (e.g. "api-reference/partner/list-partner-organizations").
	Path string
	// Description is the text after the link, continuation lines included.
	Description string
	// Line is the entry's line number in the index (1-based).
	Line int
	// Refused says why the link is not read ("" for a page that is): its
	// path has a ".", ".." or empty segment (or a backslash), so the URL
	// built from it could resolve outside the docs base. Such an entry is
	// PageOther to Kind and is reported, never fetched.
	Refused string
}

// PageKind says what an index entry is to the drift check.
type PageKind int

// Kinds of index entries.
const (
	// PageOther is outside api-reference/ (guides, SDK pages, changelog): not fetched.
	PageOther PageKind = iota
	// PageHandWritten is a known hand-written page under api-reference/
	// (authentication, introduction, or one named by the caller): not fetched.
	PageHandWritten
	// PageOperation is api-reference/<tag>/<slug>: generated from one
	// operation; it must carry an OpenAPI fragment.
	PageOperation
	// PageAPIOther is any other page under api-reference/: fetched, and used
	// if it carries a fragment; without one it is listed, not a failure.
	PageAPIOther
)

// DefaultHandWrittenPages are the hand-written pages the docs index lists
// under api-reference/. They carry no OpenAPI fragment.
var DefaultHandWrittenPages = []string{"api-reference/authentication", "api-reference/introduction"}

// Kind classifies the entry; handWritten lists page paths known to be
// hand-written (see DefaultHandWrittenPages).
func (e IndexEntry) Kind(handWritten []string) PageKind {
	if e.Refused != "" || !strings.HasPrefix(e.Path, APIReferencePrefix) {
		return PageOther
	}
	for _, h := range handWritten {
		if strings.Trim(strings.TrimSuffix(h, ".md"), "/") == e.Path {
			return PageHandWritten
		}
	}
	rest := strings.TrimPrefix(e.Path, APIReferencePrefix)
	if parts := strings.Split(rest, "/"); len(parts) == 2 && parts[0] != "" && parts[1] != "" {
		return PageOperation
	}
	return PageAPIOther
}

// TwinURL returns the URL of the entry's markdown twin under the docs base
// (the base's scheme, host and path prefix; the link's own host is ignored,
// so a mirror or a loopback site works).
func (e IndexEntry) TwinURL(base *url.URL) string {
	return joinURL(base, e.Path+".md")
}

// DefaultMaxIndexEntries caps the distinct pages a docs index may list. The
// real index lists about a hundred; a much longer one is not the docs index
// (or is hostile), and reading it would mean a request per entry.
const DefaultMaxIndexEntries = 5000

// maxDescription is the length past which an entry's description takes no
// more continuation lines.
const maxDescription = 4096

// IndexTooLargeError says the index lists more distinct pages than the cap.
type IndexTooLargeError struct {
	// Max is the cap that was exceeded.
	Max int
	// Line is the index line of the first entry over the cap.
	Line int
}

// Error names the cap.
func (e *IndexTooLargeError) Error() string {
	return fmt.Sprintf("the index lists more than %d distinct pages, the cap (line %d is over it): no page fetched", e.Max, e.Line)
}

// ParseIndex parses a docs index (llms.txt) with no cap on its length; see
// ParseIndexLimited.
func ParseIndex(data []byte) ([]IndexEntry, error) {
	entries, _, err := ParseIndexLimited(data, 0)
	return entries, err
}

// ParseIndexLimited parses a docs index (llms.txt). It is lenient: headings
// of any depth and blank lines are skipped, an entry is a list item
// "- [Title](link)" optionally followed by ": description", and a line that
// is neither continues the description of the entry right above it. Link
// paths are taken relative to the docs root whatever host they name.
//
// Each page is kept once: a later entry with the same page path (another
// host, with or without ".md") is dropped and counted in duplicates. When
// maxEntries > 0 and the index lists more distinct pages, parsing stops with
// an *IndexTooLargeError. It fails when the text lists no page at all (an
// HTML error page or a changed format must not look like an empty site).
func ParseIndexLimited(data []byte, maxEntries int) (entries []IndexEntry, duplicates int, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	seen := map[string]bool{}
	line := 0
	// continues: the previous line was a kept entry or its continuation, so
	// a plain line extends that entry's description.
	continues := false
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continues = false
			continue
		}
		if e, ok := parseIndexLine(text); ok {
			if seen[e.Path] {
				duplicates++
				continues = false // a duplicate's description is not the kept entry's
				continue
			}
			if maxEntries > 0 && len(entries) == maxEntries {
				return nil, duplicates, &IndexTooLargeError{Max: maxEntries, Line: line}
			}
			seen[e.Path] = true
			e.Line = line
			entries = append(entries, e)
			continues = true
			continue
		}
		if strings.HasPrefix(text, "- ") || strings.HasPrefix(text, "* ") {
			continues = false // another list item, without a link
			continue
		}
		// The cap keeps a hostile run of continuation lines from making the
		// parse quadratic; descriptions are only shown, never compared.
		if n := len(entries); continues && n > 0 && len(entries[n-1].Description) < maxDescription {
			entries[n-1].Description = strings.TrimSpace(entries[n-1].Description + " " + text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, duplicates, fmt.Errorf("reading the index: %w", err)
	}
	if len(entries) == 0 {
		return nil, duplicates, fmt.Errorf("the index lists no pages (no \"- [Title](link)\" lines in %d lines)", line)
	}
	return entries, duplicates, nil
}

// parseIndexLine parses "- [Title](https://docs.kelviq.com/x.md): description".
func parseIndexLine(text string) (IndexEntry, bool) {
	rest, ok := strings.CutPrefix(text, "- ")
	if !ok {
		rest, ok = strings.CutPrefix(text, "* ")
	}
	if !ok {
		return IndexEntry{}, false
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "[") {
		return IndexEntry{}, false
	}
	closeTitle := strings.Index(rest, "](")
	if closeTitle < 0 {
		return IndexEntry{}, false
	}
	title := rest[1:closeTitle]
	after := rest[closeTitle+2:]
	closeLink := strings.IndexByte(after, ')')
	if closeLink < 0 {
		return IndexEntry{}, false
	}
	link := strings.TrimSpace(after[:closeLink])
	desc := strings.TrimSpace(after[closeLink+1:])
	desc = strings.TrimSpace(strings.TrimPrefix(desc, ":"))
	path, refused, ok := linkPath(link)
	if !ok {
		return IndexEntry{}, false
	}
	return IndexEntry{Title: strings.TrimSpace(title), Link: link, Path: path, Description: desc, Refused: refused}, true
}

// linkPath returns a link's page path relative to the docs root, without
// ".md". Only the path counts: the index names docs.kelviq.com also when it
// is served from elsewhere, so the link's host, userinfo or port never
// choose where a request goes. A path that could resolve outside the docs
// base once joined to it (a ".", ".." or empty segment, percent-encoded or
// not, or a backslash some servers read as "/") is kept with the reason it
// is refused.
func linkPath(link string) (path, refused string, ok bool) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false
	}
	p := strings.Trim(u.Path, "/") // decoded: "%2e%2e" is ".." here
	p = strings.TrimSuffix(p, ".md")
	if p == "" {
		return "", "", false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsRune(seg, '\\') {
			return p, fmt.Sprintf("the link's path %q has a %q segment, which could leave the docs base: not fetched", p, seg), true
		}
	}
	return p, "", true
}

// joinURL appends a relative path to a base URL's path.
func joinURL(base *url.URL, rel string) string {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(rel, "/")
	u.RawPath = ""
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
