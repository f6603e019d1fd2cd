package specdrift

import (
	"cmp"
	"fmt"
	"slices"
)

// Kinds of changes this package reports itself. Changes found by oasdiff
// carry its rule id as their kind (e.g. "request-parameter-removed").
const (
	KindOperationAdded     = "operation-added"
	KindOperationRemoved   = "operation-removed"
	KindOperationIDChanged = "operation-id-changed"
	KindParameterRenamed   = "request-parameter-renamed"
	KindDocsChanged        = "docs-changed"
	KindOtherChange        = "unclassified-change"
)

// Change is one difference between the vendored and the live spec.
type Change struct {
	// Operation is "METHOD /path".
	Operation string `json:"operation"`
	// OperationID is the live operationId (the vendored one for a removed operation).
	OperationID string `json:"operationId"`
	// Kind names the change: one of the Kind constants, or an oasdiff rule id.
	Kind string `json:"kind"`
	// Level is breaking, non-breaking or docs-only.
	Level Level `json:"level"`
	// Breaking is Level == Breaking.
	Breaking bool `json:"breaking"`
	// Message says what changed, in words.
	Message string `json:"message"`
	// OasdiffLevel is oasdiff's own level (error, warning, info) when the
	// change comes from one of its rules.
	OasdiffLevel string `json:"oasdiffLevel,omitempty"`
}

func newChange(base, rev *Operation, kind string, level Level, msg string) Change {
	o := rev
	if o == nil {
		o = base
	}
	id := o.OperationID
	if id == "" && base != nil {
		id = base.OperationID
	}
	return Change{Operation: o.Key.String(), OperationID: id, Kind: kind, Level: level, Breaking: level == Breaking, Message: msg}
}

// Comparison is the result of Compare.
type Comparison struct {
	// Added lists operations only the live side has.
	Added []OpKey
	// Removed lists operations only the vendored side has.
	Removed []OpKey
	// Changes lists every change: one operation-added or operation-removed
	// change per added or removed operation, then the changes of operations
	// both sides have, sorted by operation, breaking first.
	Changes []Change
	// NotCompared lists vendored operations the live side could not show
	// (their page failed): neither removed nor compared.
	NotCompared []OpKey
}

// CompareOptions tune Compare.
type CompareOptions struct {
	// Unknown lists operations whose live state could not be read (a page
	// that failed): they are not reported as removed or added.
	Unknown map[OpKey]bool
}

// Compare compares the vendored view (base) with the live view (rev):
// operations added and removed by identity "METHOD /path", and for each
// operation both have, its operationId, servers, security, parameters,
// request body, responses and the schemas they reach (the latter with
// oasdiff). Docs-only changes are included with Level DocsOnly. It fails only
// when oasdiff fails on an operation; the error names it.
func Compare(base, rev *View, opt CompareOptions) (*Comparison, error) {
	c := &Comparison{}
	for _, k := range rev.Keys() {
		if _, ok := base.Ops[k]; !ok && !opt.Unknown[k] {
			c.Added = append(c.Added, k)
			c.Changes = append(c.Changes, newChange(nil, rev.Ops[k], KindOperationAdded, NonBreaking,
				fmt.Sprintf("operation added (%s)", idOrNone(rev.Ops[k].OperationID))))
		}
	}
	for _, k := range base.Keys() {
		if _, ok := rev.Ops[k]; ok {
			continue
		}
		if opt.Unknown[k] {
			c.NotCompared = append(c.NotCompared, k)
			continue
		}
		c.Removed = append(c.Removed, k)
		c.Changes = append(c.Changes, newChange(base.Ops[k], nil, KindOperationRemoved, Breaking,
			fmt.Sprintf("operation removed: the client's %s method would no longer exist", idOrNone(base.Ops[k].OperationID))))
	}
	var changed []Change
	for _, k := range base.Keys() {
		r, ok := rev.Ops[k]
		if !ok {
			continue
		}
		cs, err := compareOperation(base.Ops[k], r)
		if err != nil {
			return nil, err
		}
		changed = append(changed, cs...)
	}
	sortChanges(changed)
	c.Changes = append(c.Changes, changed...)
	return c, nil
}

// CompareOperation compares one operation of the vendored spec (base) with
// the live one (rev), e.g. the operation of a docs page: operationId,
// servers, security, and oasdiff's schema-level diff, docs-only changes
// included. The keys need not be equal (the changes name rev's).
func CompareOperation(base, rev *Operation) ([]Change, error) {
	cs, err := compareOperation(base, rev)
	if err != nil {
		return nil, err
	}
	sortChanges(cs)
	return cs, nil
}

// compareOperation compares one operation both sides have.
func compareOperation(base, rev *Operation) ([]Change, error) {
	var out []Change
	if base.OperationID != rev.OperationID {
		out = append(out, newChange(base, rev, KindOperationIDChanged, Breaking,
			fmt.Sprintf("operationId changed from %s to %s: the generated method and type names change",
				idOrNone(base.OperationID), idOrNone(rev.OperationID))))
	}
	out = append(out, serverChanges(base, rev)...)
	out = append(out, securityChanges(base, rev)...)
	cs, err := schemaChanges(base, rev)
	if err != nil {
		return nil, err
	}
	return append(out, cs...), nil
}

func idOrNone(id string) string {
	if id == "" {
		return "no operationId"
	}
	return "`" + id + "`"
}

var levelRank = map[Level]int{Breaking: 0, NonBreaking: 1, DocsOnly: 2}

// sortChanges orders changes by operation, then breaking first, then kind
// and message, so that output is stable.
func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		ka, _ := ParseOpKey(a.Operation)
		kb, _ := ParseOpKey(b.Operation)
		if c := compareKeys(ka, kb); c != 0 {
			return c
		}
		if c := cmp.Compare(levelRank[a.Level], levelRank[b.Level]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.Message, b.Message)
	})
}
