package kelviqgo_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/kelviq"
)

// release is one "## [X.Y.Z] - YYYY-MM-DD" section of CHANGELOG.md.
type release struct {
	version [3]int
	text    string // "X.Y.Z" as written
	date    time.Time
}

// changelog is what parseChangelog reads from a Keep a Changelog file.
type changelog struct {
	unreleased bool      // an "## [Unreleased]" section comes first
	releases   []release // newest first, as the file lists them
}

var (
	versionHeading = regexp.MustCompile(`^## \[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})$`)
	// The six kinds of change Keep a Changelog 1.1.0 names.
	changeHeading = regexp.MustCompile(`^### (Added|Changed|Deprecated|Removed|Fixed|Security)$`)
)

// parseChangelog reads a changelog in Keep a Changelog 1.1.0 form and
// checks what a reader and a release rely on: "Unreleased" first if present,
// released versions strictly newest first with valid, non-increasing dates,
// only the standard kinds of change, and a link reference for every
// version heading.
func parseChangelog(s string) (changelog, error) {
	var cl changelog
	seenUnreleased := false
	for i, line := range strings.Split(s, "\n") {
		n := i + 1
		switch {
		case strings.HasPrefix(line, "## "):
			if line == "## [Unreleased]" {
				if seenUnreleased || len(cl.releases) > 0 {
					return cl, fmt.Errorf("line %d: [Unreleased] must come once, before every release", n)
				}
				seenUnreleased = true
				cl.unreleased = true
				continue
			}
			m := versionHeading.FindStringSubmatch(line)
			if m == nil {
				return cl, fmt.Errorf("line %d: %q is not \"## [Unreleased]\" or \"## [X.Y.Z] - YYYY-MM-DD\"", n, line)
			}
			var r release
			for k := range 3 {
				v, err := strconv.Atoi(m[k+1])
				if err != nil {
					return cl, fmt.Errorf("line %d: %v", n, err)
				}
				r.version[k] = v
			}
			r.text = fmt.Sprintf("%d.%d.%d", r.version[0], r.version[1], r.version[2])
			if r.text != m[1]+"."+m[2]+"."+m[3] {
				return cl, fmt.Errorf("line %d: version %s has leading zeros", n, m[1]+"."+m[2]+"."+m[3])
			}
			d, err := time.Parse(time.DateOnly, m[4])
			if err != nil {
				return cl, fmt.Errorf("line %d: date: %v", n, err)
			}
			r.date = d
			if k := len(cl.releases); k > 0 {
				prev := cl.releases[k-1]
				if !versionLess(r.version, prev.version) {
					return cl, fmt.Errorf("line %d: %s is listed after %s: releases go newest first", n, r.text, prev.text)
				}
				if r.date.After(prev.date) {
					return cl, fmt.Errorf("line %d: %s is dated after the newer %s", n, r.text, prev.text)
				}
			}
			cl.releases = append(cl.releases, r)
		case strings.HasPrefix(line, "### "):
			if !changeHeading.MatchString(line) {
				return cl, fmt.Errorf("line %d: %q is not one of Added, Changed, Deprecated, Removed, Fixed, Security", n, line)
			}
		case strings.HasPrefix(line, "# ") && n != 1:
			return cl, fmt.Errorf("line %d: a second title", n)
		}
	}
	if cl.unreleased && !strings.Contains(s, "\n[Unreleased]: ") {
		return cl, fmt.Errorf("no link reference for [Unreleased]")
	}
	for _, r := range cl.releases {
		if !strings.Contains(s, "\n["+r.text+"]: ") {
			return cl, fmt.Errorf("no link reference for [%s]", r.text)
		}
	}
	return cl, nil
}

func versionLess(a, b [3]int) bool {
	for i := range 3 {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// newestReleased is the version the library must carry: the first released
// section, never "Unreleased".
func newestReleased(s string) (string, error) {
	cl, err := parseChangelog(s)
	if err != nil {
		return "", err
	}
	if len(cl.releases) == 0 {
		return "", fmt.Errorf("no released version")
	}
	return cl.releases[0].text, nil
}

func TestVersionIsNewestReleasedChangelogEntry(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := newestReleased(string(b))
	if err != nil {
		t.Fatalf("CHANGELOG.md: %v", err)
	}
	if got != kelviq.Version {
		t.Errorf("kelviq.Version is %q but the newest release in CHANGELOG.md is %q: "+
			"bump kelviq/version.go when moving Unreleased to a version (docs/maintaining.md, Releases)",
			kelviq.Version, got)
	}
	if !strings.HasPrefix(string(b), "# Changelog\n") {
		t.Error("CHANGELOG.md does not start with \"# Changelog\"")
	}
	if !strings.Contains(string(b), "https://keepachangelog.com/en/1.1.0/") {
		t.Error("CHANGELOG.md does not name the Keep a Changelog version it follows")
	}
}

// The checks above can fail: each malformed changelog is refused, and the
// version is read from the newest release, not from Unreleased.
func TestChangelogParser(t *testing.T) {
	const links = "\n[Unreleased]: u\n[0.2.0]: b\n[0.1.0]: a\n"
	good := "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- x\n\n## [0.2.0] - 2026-12-01\n\n### Fixed\n\n- y\n\n## [0.1.0] - 2026-11-27\n" + links
	if v, err := newestReleased(good); err != nil || v != "0.2.0" {
		t.Fatalf("newestReleased(good) = %q, %v; want 0.2.0", v, err)
	}

	bad := map[string]string{
		"no release":            "# Changelog\n\n## [Unreleased]\n\n- x\n\n[Unreleased]: u\n",
		"old first":             "# Changelog\n\n## [0.1.0] - 2026-11-27\n\n## [0.2.0] - 2026-12-01\n" + links,
		"same version twice":    "# Changelog\n\n## [0.1.0] - 2026-11-27\n\n## [0.1.0] - 2026-11-27\n" + links,
		"dates out of order":    "# Changelog\n\n## [0.2.0] - 2026-11-01\n\n## [0.1.0] - 2026-11-27\n" + links,
		"impossible date":       "# Changelog\n\n## [0.1.0] - 2026-02-30\n" + links,
		"unreleased after":      "# Changelog\n\n## [0.1.0] - 2026-11-27\n\n## [Unreleased]\n" + links,
		"v prefix":              "# Changelog\n\n## [v0.1.0] - 2026-11-27\n" + links,
		"no date":               "# Changelog\n\n## [0.1.0]\n" + links,
		"leading zero":          "# Changelog\n\n## [0.01.0] - 2026-11-27\n" + links,
		"unknown kind":          "# Changelog\n\n## [0.1.0] - 2026-11-27\n\n### Improved\n" + links,
		"missing link":          "# Changelog\n\n## [0.1.0] - 2026-11-27\n\n[Unreleased]: u\n",
		"missing unrel. link":   "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-27\n\n[0.1.0]: a\n",
		"second title":          "# Changelog\n\n# Other\n\n## [0.1.0] - 2026-11-27\n" + links,
		"not a version heading": "# Changelog\n\n## Notes\n\n## [0.1.0] - 2026-11-27\n" + links,
	}
	for name, s := range bad {
		if v, err := newestReleased(s); err == nil {
			t.Errorf("%s: accepted, version %q", name, v)
		}
	}
}

// mitLicense is the MIT licence text (https://opensource.org/license/mit),
// with the copyright holder this project uses.
const mitLicense = `MIT License

Copyright (c) 2026 The kelviq-go authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`

// LICENSE is the MIT licence, word for word (line breaks aside), held by
// "The kelviq-go authors".
func TestLicenseIsMIT(t *testing.T) {
	b, err := os.ReadFile("LICENSE")
	if err != nil {
		t.Fatalf("the repository has no LICENSE: %v", err)
	}
	if got, want := strings.Join(strings.Fields(string(b)), " "), strings.Join(strings.Fields(mitLicense), " "); got != want {
		t.Errorf("LICENSE is not the MIT licence of \"The kelviq-go authors\":\n%s", b)
	}
	if !strings.Contains(string(b), "\nCopyright (c) 2026 The kelviq-go authors\n") {
		t.Error("LICENSE lacks the line \"Copyright (c) 2026 The kelviq-go authors\"")
	}
}
