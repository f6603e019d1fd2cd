package goapi

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/exp/apidiff"
)

// Bumps of the version, while v0: a Go-incompatible change bumps the minor
// version, any other change the patch version.
const (
	BumpMinor = "minor"
	BumpPatch = "patch"
	BumpNone  = "none"
)

// Diff is the Go API difference between two builds, in the report's JSON
// field goApi.
type Diff struct {
	// Incompatible lists the changes that can break code using the module,
	// one "<package>: <apidiff message>" a change.
	Incompatible []string `json:"incompatible"`
	// Compatible lists the other changes, the same way.
	Compatible []string `json:"compatible"`
	// Bump is "minor" when anything is incompatible, else "patch" when
	// anything changed (the Go API or only the spec: the wire changed),
	// else "none".
	Bump string `json:"bump"`
	// Verdict puts the spec-level and the Go-level outcome side by side,
	// in words: "spec-breaking, Go-compatible: …" and so on.
	Verdict string `json:"verdict"`
	// Old and New say what was compared.
	Old string `json:"old"`
	New string `json:"new"`
	// Policy lists the changes apidiff calls incompatible that this
	// module's policy counts as compatible (they are in Compatible).
	Policy []string `json:"policy"`
}

// PolicyNote states the rule applied on top of apidiff.
const PolicyNote = "methods added to the generated ClientInterface and ClientWithResponsesInterface count as compatible: " +
	"those interfaces are not for implementing outside this module (their docs say so); plain apidiff calls such an addition incompatible"

// policyInterfaces matches apidiff's message for a method added to one of
// the generated client interfaces.
var policyInterfaces = regexp.MustCompile(`^(ClientInterface|ClientWithResponsesInterface)\.[A-Za-z0-9_]+: added$`)

// embedded matches a message of package kelviq about an object of package
// api, seen through kelviq.Client embedding the generated client.
var embedded = regexp.MustCompile(`^kelviq: api\.(.+?)(, method set of \*?[A-Za-z0-9_]+)?: `)

// apiObject returns the api object a message is about: "X" for
// "api: X: removed" and for kelviq's echo "kelviq: api.X, method set of
// *Client: removed" (the change of an embedded api method seen in
// kelviq.Client's method set, its types printed with another qualifier).
func apiObject(msg string) string {
	if m := embedded.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if rest, ok := strings.CutPrefix(msg, "api: "); ok {
		obj, _, _ := strings.Cut(rest, ": ")
		return obj
	}
	return ""
}

// SpecChange is what the spec-level diff found.
type SpecChange struct {
	// Changed is true when the specs differ at all (docs-only included).
	Changed bool
	// Breaking counts the spec-level breaking changes.
	Breaking int
}

// Compare compares the exported API of Packages in old and new with apidiff
// and applies the policy. spec says what the spec-level diff found: a change
// of the wire alone is a patch, and the verdict names both levels.
func Compare(old, new *API, spec SpecChange) *Diff {
	d := &Diff{Incompatible: []string{}, Compatible: []string{}, Policy: []string{}, Old: old.Source, New: new.Source}
	seen := map[string]bool{}
	apiChanged := map[string]bool{} // api objects with a change listed
	for _, name := range Packages {
		for _, c := range apidiff.Changes(old.Packages[name], new.Packages[name]).Changes {
			msg := fmt.Sprintf("%s: %s", name, strings.ReplaceAll(c.Message, ModulePath+"/", ""))
			obj := apiObject(msg)
			if seen[msg] || name != "api" && obj != "" && apiChanged[obj] {
				continue // collapse duplicates, and kelviq's echoes of api changes
			}
			seen[msg] = true
			if name == "api" && obj != "" {
				apiChanged[obj] = true
			}
			switch {
			case c.Compatible:
				d.Compatible = append(d.Compatible, msg)
			case name == "api" && policyInterfaces.MatchString(c.Message):
				d.Compatible = append(d.Compatible, msg)
				d.Policy = append(d.Policy, msg)
			default:
				d.Incompatible = append(d.Incompatible, msg)
			}
		}
	}
	slices.Sort(d.Incompatible)
	slices.Sort(d.Compatible)
	slices.Sort(d.Policy)
	switch {
	case len(d.Incompatible) > 0:
		d.Bump = BumpMinor
	case len(d.Compatible) > 0 || spec.Changed || spec.Breaking > 0:
		d.Bump = BumpPatch
	default:
		d.Bump = BumpNone
	}
	d.Verdict = verdict(spec.Breaking, len(d.Incompatible))
	return d
}

// verdict says in words how the two levels relate. A spec-level breaking
// change is about the wire (what the server accepts and sends); a Go-level
// one about whether code written against this module still compiles. Each
// can happen without the other, and the report shows both.
func verdict(specBreaking, goIncompatible int) string {
	switch {
	case specBreaking > 0 && goIncompatible == 0:
		return fmt.Sprintf("spec-breaking, Go-compatible: the %d breaking spec change(s) change what goes over the wire, "+
			"yet every identifier they touch keeps its Go name and type, so code written against this module still compiles; "+
			"its calls only work against the new API after the upgrade", specBreaking)
	case specBreaking == 0 && goIncompatible > 0:
		return fmt.Sprintf("spec-compatible, Go-incompatible: nothing breaks on the wire, but %d Go API change(s) can stop code written against this module from compiling", goIncompatible)
	case specBreaking > 0:
		return fmt.Sprintf("spec-breaking, Go-incompatible: %d breaking spec change(s) and %d incompatible Go API change(s)", specBreaking, goIncompatible)
	}
	return "spec-compatible, Go-compatible"
}
