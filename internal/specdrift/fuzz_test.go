package specdrift_test

import (
	"os"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/internal/specdrift"
)

// Whatever a docs site serves, parsing never panics, and success means a
// usable result.
func FuzzParsePage(f *testing.F) {
	if data, err := os.ReadFile(testdataPath("list-partner-organizations.md")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("````yaml /s.json get /a/\nopenapi: 3.0.0\ninfo: {title: t, version: v}\npaths:\n  /a/:\n    get:\n      responses: {'200': {description: ok}}\n````\n"))
	f.Add([]byte("# no fragment"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := specdrift.ParsePage(data, "https://d/p.md")
		if err == nil && (p.Op == nil || p.View.Ops[p.Key] != p.Op) {
			t.Fatalf("parsed without an operation: %+v", p)
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("# Kelviq Documentation\n\n## Docs\n\n- [Authentication](https://docs.kelviq.com/api-reference/authentication.md)\n- [List features](https://docs.kelviq.com/api-reference/features/list-features.md): Returns a list.\n  continued\n"))
	f.Add([]byte("- [](x)"))
	f.Add([]byte("- [a](https://docs.kelviq.com@evil/api-reference/%2e%2e/x/.md)"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := specdrift.ParseIndex(data)
		if err == nil && len(entries) == 0 {
			t.Fatal("no error and no entries")
		}
		for _, e := range entries {
			if e.Path == "" {
				t.Fatalf("entry without a path: %+v", e)
			}
			if e.Refused != "" {
				continue
			}
			// A page that is read stays under the docs base once joined.
			for seg := range strings.SplitSeq(e.Path, "/") {
				if seg == "" || seg == "." || seg == ".." || strings.Contains(seg, "\\") {
					t.Fatalf("entry %+v is read but its path could leave the docs base", e)
				}
			}
		}
	})
}
