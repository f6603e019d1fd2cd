package specdrift

import (
	"fmt"
	"strings"
)

// APIReferencePrefix is the docs folder holding the API reference pages.
const APIReferencePrefix = "api-reference/"

// Slug applies the docs site's slug rule to a tag or a summary: spaces become
// "-", the characters { } ( ) , . ' / are dropped, and the result is lower
// case. ("List partner organizations" → "list-partner-organizations".)
func Slug(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch r {
		case ' ':
			b.WriteByte('-')
		case '{', '}', '(', ')', ',', '.', '\'', '/':
		default:
			b.WriteRune(r)
		}
	}
	return strings.ToLower(b.String())
}

// pageSlug is the last segment of an operation's page: the slug of its
// summary, or "<method>-<path segments without parameters>" without one.
func pageSlug(o *Operation) string {
	if strings.TrimSpace(o.Summary) != "" {
		return Slug(o.Summary)
	}
	parts := []string{strings.ToLower(o.Key.Method)}
	for seg := range strings.SplitSeq(o.Key.Path, "/") {
		if seg == "" || strings.HasPrefix(seg, "{") {
			continue
		}
		parts = append(parts, seg)
	}
	return Slug(strings.Join(parts, "-"))
}

// pageFolder is the folder of an operation's page: the slug of its first tag.
// The docs generator's behaviour for untagged operations is unknown; such an
// operation is expected directly under api-reference/.
func pageFolder(o *Operation) string {
	if len(o.Tags) == 0 || strings.TrimSpace(o.Tags[0]) == "" {
		return ""
	}
	return Slug(o.Tags[0]) + "/"
}

// PagePaths returns the docs page path (without ".md", e.g.
// "api-reference/partner/list-partner-organizations") the docs site gives each
// operation of the view: api-reference/<slug(first tag)>/<slug(summary)>, the
// second and later operations with the same path getting "-1", "-2", … in
// document order.
func PagePaths(v *View) map[string]OpKey {
	out := make(map[string]OpKey, len(v.Ops))
	seen := map[string]int{}
	for _, k := range v.order {
		o := v.Ops[k]
		p := APIReferencePrefix + pageFolder(o) + pageSlug(o)
		n := seen[p]
		seen[p] = n + 1
		if n > 0 {
			p = fmt.Sprintf("%s-%d", p, n)
		}
		out[p] = k
	}
	return out
}
