package specdrift

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Page is a docs API page's markdown twin, parsed: its title and the
// operation its embedded OpenAPI fragment describes.
type Page struct {
	// URL is where the twin was read (used in messages).
	URL string
	// Title is the page's "# " heading.
	Title string
	// SpecRef is the spec the fence names, e.g. "/api-reference/openapi.json".
	SpecRef string
	// Key is the operation the fence names ("get /partner/organizations/").
	Key OpKey
	// Op is that operation, read from the fragment (Origin is URL).
	Op *Operation
	// View holds the fragment's operations (normally just Op).
	View *View

	doc *openapi3.T // the fragment, for assembling a whole spec from pages
}

// ErrNoFragment means a page has no OpenAPI fence (````yaml … ````).
var ErrNoFragment = errors.New("no OpenAPI fragment (no ````yaml fence)")

// ParsePage parses a page's markdown twin: a title, prose, then "## OpenAPI"
// and a fence opened by "````yaml <spec> <method> <path>" holding a
// self-contained spec. pageURL names the page in errors. It fails when the
// fence is missing or unterminated, its header is malformed, the YAML does not
// load, or the fragment lacks the operation the fence names.
func ParsePage(data []byte, pageURL string) (*Page, error) {
	p := &Page{URL: pageURL}
	header, body, err := extractFence(data)
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", pageURL, err)
	}
	p.Title = pageTitle(data)
	fields := strings.Fields(header)
	if len(fields) != 4 || fields[0] != "yaml" {
		return nil, fmt.Errorf("page %s: fence header %q: want \"yaml <spec> <method> <path>\"", pageURL, header)
	}
	p.SpecRef = fields[1]
	key, err := ParseOpKey(fields[2] + " " + fields[3])
	if err != nil {
		return nil, fmt.Errorf("page %s: fence header %q: %w", pageURL, header, err)
	}
	p.Key = key
	doc, err := LoadSpec(body, "page "+pageURL+" (fragment)")
	if err != nil {
		return nil, err
	}
	view, err := NewView(doc, pageURL)
	if err != nil {
		return nil, fmt.Errorf("page %s: fragment: %w", pageURL, err)
	}
	op, ok := view.Ops[key]
	if !ok {
		return nil, fmt.Errorf("page %s: the fence names %s but the fragment has no such operation (it has %s)", pageURL, key, joinKeys(view.Keys()))
	}
	p.Op, p.View, p.doc = op, view, doc
	return p, nil
}

// extractFence finds the first fence of four or more backticks whose info
// string starts with "yaml" and returns its header (the info string) and body.
func extractFence(data []byte) (header string, body []byte, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var (
		fence string // the opening backticks, "" while outside
		buf   bytes.Buffer
		line  int
		start int
	)
	for sc.Scan() {
		line++
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if fence == "" {
			ticks := len(trimmed) - len(strings.TrimLeft(trimmed, "`"))
			if ticks >= 3 {
				info := strings.TrimSpace(trimmed[ticks:])
				if strings.HasPrefix(info, "yaml") && (ticks >= 4 || strings.Contains(info, "openapi")) {
					fence, header, start = trimmed[:ticks], info, line
				}
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`") == "" {
			return header, buf.Bytes(), nil
		}
		buf.WriteString(text)
		buf.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", nil, fmt.Errorf("reading the page: %w", err)
	}
	if fence == "" {
		return "", nil, ErrNoFragment
	}
	return "", nil, fmt.Errorf("the OpenAPI fence opened on line %d is never closed", start)
}

func pageTitle(data []byte) string {
	for line := range strings.SplitSeq(string(data), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

func joinKeys(keys []OpKey) string {
	if len(keys) == 0 {
		return "none"
	}
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.String()
	}
	return strings.Join(s, ", ")
}
