package specdrift

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Kinds of security changes.
const (
	KindSecurityChanged                  = "security-changed"
	KindSecurityLevelChanged             = "security-level-changed"
	KindSecuritySchemeChanged            = "security-scheme-changed"
	KindSecuritySchemeDescriptionChanged = "security-scheme-description-changed"
)

// securityChanges compares an operation's effective security and the
// definitions of the schemes it uses (oasdiff's security rules look at the
// top-level and operation-level lists separately; what a request sends is
// the effective one). Any change of which credentials are sent, or how, is
// breaking: the client picks the credential (bearer server key, partner key,
// none) from the operation's security.
func securityChanges(base, rev *Operation) []Change {
	var out []Change
	bs, rs := describeSecurity(base.Security), describeSecurity(rev.Security)
	if bs != rs {
		out = append(out, newChange(base, rev, KindSecurityChanged, Breaking,
			fmt.Sprintf("security changed from %s (%s) to %s (%s): the client would send other credentials",
				bs, levelOrNone(base.Security.Level), rs, levelOrNone(rev.Security.Level))))
	} else if base.Security.Level != rev.Security.Level {
		out = append(out, newChange(base, rev, KindSecurityLevelChanged, NonBreaking,
			fmt.Sprintf("security %s now declared at %s (was at %s)", rs, levelOrNone(rev.Security.Level), levelOrNone(base.Security.Level))))
	}
	for _, name := range schemeNames(base.Security, rev.Security) {
		b, r := schemeValue(base.Schemes, name), schemeValue(rev.Schemes, name)
		switch {
		case b == nil && r == nil:
		case b == nil || r == nil:
			// A scheme the operation uses that one side does not define.
			out = append(out, newChange(base, rev, KindSecuritySchemeChanged, Breaking,
				fmt.Sprintf("security scheme `%s`: defined %s, not %s", name, definedSide(b != nil), definedSide(r != nil))))
		default:
			if d := schemeDiff(b, r); d != "" {
				out = append(out, newChange(base, rev, KindSecuritySchemeChanged, Breaking,
					fmt.Sprintf("security scheme `%s` changed: %s", name, d)))
			} else if b.Description != r.Description {
				out = append(out, newChange(base, rev, KindSecuritySchemeDescriptionChanged, DocsOnly,
					fmt.Sprintf("description of security scheme `%s` changed", name)))
			}
		}
	}
	return out
}

func definedSide(live bool) string {
	if live {
		return "live"
	}
	return "vendored"
}

func levelOrNone(l string) string {
	if l == "" {
		return "not declared"
	}
	return l
}

// describeSecurity renders requirements as "`a` or `b + c[scope]`", "none"
// for an explicit empty list, "not declared" for no list.
func describeSecurity(d SecurityDecl) string {
	if d.Level == "" {
		return "not declared"
	}
	if len(d.Requirements) == 0 {
		return "none (public)"
	}
	alts := make([]string, 0, len(d.Requirements))
	for _, req := range d.Requirements {
		if len(req) == 0 {
			alts = append(alts, "anonymous")
			continue
		}
		names := make([]string, 0, len(req))
		for name, scopes := range req {
			s := slices.Clone(scopes)
			slices.Sort(s)
			if len(s) > 0 {
				name += "[" + strings.Join(s, ",") + "]"
			}
			names = append(names, name)
		}
		slices.Sort(names)
		alts = append(alts, "`"+strings.Join(names, " + ")+"`")
	}
	slices.Sort(alts)
	alts = slices.Compact(alts)
	return strings.Join(alts, " or ")
}

func schemeNames(decls ...SecurityDecl) []string {
	var names []string
	for _, d := range decls {
		for _, req := range d.Requirements {
			for name := range req {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func schemeValue(schemes openapi3.SecuritySchemes, name string) *openapi3.SecurityScheme {
	if ref := schemes[name]; ref != nil {
		return ref.Value
	}
	return nil
}

// schemeDiff describes the differences of two scheme definitions that change
// what a request carries ("" when there are none).
func schemeDiff(b, r *openapi3.SecurityScheme) string {
	var diffs []string
	field := func(name, x, y string) {
		if !strings.EqualFold(x, y) {
			diffs = append(diffs, fmt.Sprintf("%s %q → %q", name, x, y))
		}
	}
	field("type", b.Type, r.Type)
	field("scheme", b.Scheme, r.Scheme)
	field("in", b.In, r.In)
	field("name", b.Name, r.Name)
	field("openIdConnectUrl", b.OpenIdConnectUrl, r.OpenIdConnectUrl)
	if (b.Flows == nil) != (r.Flows == nil) {
		diffs = append(diffs, "OAuth flows added or removed")
	}
	return strings.Join(diffs, ", ")
}
