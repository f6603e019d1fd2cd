package kelviqgo_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readmeLimit is the README's size budget: what a user reads before the
// first line of code. Maintainer matter goes to docs/.
const readmeLimit = 16 << 10 // 16 KiB: 15 until the fleet, gating-error and observability sections

// userDocs are the hand-written markdown files whose links and anchors are
// checked.
var userDocs = []string{"README.md", "CHANGELOG.md", "docs/maintaining.md"}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mdBlock is a run of markdown lines outside code fences, or one fenced
// code block with its language.
type mdBlock struct {
	lang string   // "" outside fences
	code bool     // inside a fence
	line int      // first line number
	text []string // the lines
}

// splitFences cuts markdown into prose lines and fenced code blocks.
func splitFences(s string) []mdBlock {
	var out []mdBlock
	var cur *mdBlock
	for i, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			if cur != nil && cur.code {
				out = append(out, *cur)
				cur = nil
				continue
			}
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &mdBlock{code: true, lang: strings.TrimPrefix(trimmed, "```"), line: i + 1}
			continue
		}
		if cur == nil {
			cur = &mdBlock{line: i + 1}
		}
		cur.text = append(cur.text, line)
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// headings returns the "#"-headings outside code fences, as written.
func headings(s string) []string {
	var hs []string
	for _, b := range splitFences(s) {
		if b.code {
			continue
		}
		for _, l := range b.text {
			if strings.HasPrefix(l, "#") {
				hs = append(hs, l)
			}
		}
	}
	return hs
}

var slugDrop = regexp.MustCompile(`[^\p{L}\p{N} _-]`)

// slug is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces to hyphens.
func slug(heading string) string {
	h := strings.TrimSpace(strings.TrimLeft(heading, "#"))
	h = slugDrop.ReplaceAllString(strings.ToLower(h), "")
	return strings.ReplaceAll(h, " ", "-")
}

func anchors(s string) map[string]bool {
	m := map[string]bool{}
	for _, h := range headings(s) {
		m[slug(h)] = true
	}
	return m
}

func TestReadmeSize(t *testing.T) {
	fi, err := os.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > readmeLimit {
		t.Errorf("README.md is %d bytes, over its %d-byte limit: move details to a package doc or docs/", fi.Size(), readmeLimit)
	}
}

var tocEntry = regexp.MustCompile(`^- \[([^\]]+)\]\(#([^)]+)\)$`)

// The table of contents lists every section, in order, by its anchor.
func TestReadmeTableOfContents(t *testing.T) {
	s := readDoc(t, "README.md")
	var sections []string
	for _, h := range headings(s) {
		if strings.HasPrefix(h, "## ") && h != "## Contents" {
			sections = append(sections, slug(h))
		}
	}
	_, after, ok := strings.Cut(s, "\n## Contents\n")
	if !ok {
		t.Fatal("README.md has no \"## Contents\" section")
	}
	var listed []string
	for _, l := range strings.Split(after, "\n") {
		if strings.HasPrefix(l, "## ") {
			break
		}
		if m := tocEntry.FindStringSubmatch(l); m != nil {
			if slug(m[1]) != m[2] {
				t.Errorf("contents entry %q links #%s, but its title's anchor is #%s", m[1], m[2], slug(m[1]))
			}
			listed = append(listed, m[2])
		}
	}
	if !slices.Equal(listed, sections) {
		t.Errorf("the contents list\n  %v\nbut the sections are\n  %v", listed, sections)
	}
	for _, want := range []string{"install", "two-commands", "quick-start-server-key", "quick-start-partner-key", "versioning", "links"} {
		if !slices.Contains(sections, want) {
			t.Errorf("README.md has no section #%s", want)
		}
	}
}

// .ci/run and CI run `make test` because the README names it as the test
// command: the README, the Makefile and .ci/run must agree.
func TestReadmeNamesTheTestCommand(t *testing.T) {
	s := readDoc(t, "README.md")
	_, section, _ := strings.Cut(s, "\n## Two commands\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var cmds []string
	for _, b := range splitFences(section) {
		if b.code && b.lang == "sh" {
			for _, l := range b.text {
				if f := strings.Fields(l); len(f) >= 2 {
					cmds = append(cmds, f[0]+" "+f[1])
				}
			}
		}
	}
	if !slices.Equal(cmds, []string{"make demo", "make test"}) {
		t.Errorf("the two commands are %q, want [make demo make test]", cmds)
	}
	if !regexp.MustCompile(`(?m)^test:`).MatchString(readDoc(t, "Makefile")) {
		t.Error("the Makefile has no test target")
	}
	if !regexp.MustCompile(`(?m)^make test$`).MatchString(readDoc(t, ".ci/run")) {
		t.Error(".ci/run does not run `make test`")
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every relative link of the docs names a file that exists, and every
// anchor a heading of its file.
func TestDocsLinks(t *testing.T) {
	for _, doc := range userDocs {
		s := readDoc(t, doc)
		for _, b := range splitFences(s) {
			if b.code {
				continue
			}
			for i, l := range b.text {
				for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
					target := m[1]
					if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
						continue
					}
					where := doc + ":" + strconv.Itoa(b.line+i)
					file, frag, _ := strings.Cut(target, "#")
					path := doc
					if file != "" {
						path = filepath.Join(filepath.Dir(doc), file)
					}
					if _, err := os.Stat(path); err != nil {
						t.Errorf("%s: link to %s: %v", where, target, err)
						continue
					}
					if frag != "" && !anchors(readDoc(t, path))[frag] {
						t.Errorf("%s: link to %s: %s has no heading with anchor #%s", where, target, path, frag)
					}
				}
			}
		}
	}
}

// Go snippets read response fields through the nil-safe GetX() accessors:
// no dereference of a field (*c.CustomerID), no deref helper, no MustGet,
// and nothing read straight off a JSONxxx body but its accessors.
func TestReadmeGoSnippetsReadResponsesSafely(t *testing.T) {
	packages := map[string]bool{"api": true, "kelviq": true, "kelviqtest": true, "http": true,
		"testing": true, "webhook": true, "entitlements": true, "usage": true, "redisstore": true,
		"redis": true, "url": true, "json": true, "slog": true, "time": true, "context": true}
	fieldDeref := regexp.MustCompile(`(?:^|[^\w)\]])\*([a-z]\w*)\.([A-Z]\w*)`)
	bodyField := regexp.MustCompile(`\.JSON\d{3}\.([A-Z]\w*)`)
	s := readDoc(t, "README.md")
	snippets := 0
	for _, b := range splitFences(s) {
		if !b.code || b.lang != "go" {
			continue
		}
		snippets++
		for i, l := range b.text {
			where := "README.md:" + strconv.Itoa(b.line+1+i)
			for _, m := range fieldDeref.FindAllStringSubmatch(l, -1) {
				if !packages[m[1]] {
					t.Errorf("%s: dereferences %s.%s; use its Get%s() accessor: %s", where, m[1], m[2], m[2], strings.TrimSpace(l))
				}
			}
			for _, m := range bodyField.FindAllStringSubmatch(l, -1) {
				if !strings.HasPrefix(m[1], "Get") {
					t.Errorf("%s: reads the field %s of a JSONxxx body; use an accessor: %s", where, m[1], strings.TrimSpace(l))
				}
			}
			for _, bad := range []string{"deref(", ".MustGet()"} {
				if strings.Contains(l, bad) {
					t.Errorf("%s: uses %s (a panic or a hidden nil): use the GetX() accessors: %s", where, bad, strings.TrimSpace(l))
				}
			}
		}
	}
	if snippets < 5 {
		t.Errorf("README.md has %d Go snippets; the quick starts alone have more", snippets)
	}
}
