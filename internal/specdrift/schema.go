package specdrift

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
)

// docElements are the oasdiff elements that are documentation only.
var docElements = []string{
	diff.ExcludeDescriptionOption, diff.ExcludeSummaryOption, diff.ExcludeExamplesOption,
	diff.ExcludeTitleOption, diff.ExcludeTagsOption,
}

// docExtensions are the extensions that are documentation only.
var docExtensions = []string{"x-mint"}

// diffConfig returns an oasdiff config that ignores the documentation
// elements except keep (one of docElements, "x-mint", or "" to ignore all).
// The endpoints view is always left out: it repeats the paths view, which is
// what the checker reads, and does not render as JSON.
func diffConfig(keep string) *diff.Config {
	elems := []string{diff.ExcludeEndpointsOption}
	for _, e := range docElements {
		if e != keep {
			elems = append(elems, e)
		}
	}
	var exts []string
	for _, x := range docExtensions {
		if x != keep {
			exts = append(exts, x)
		}
	}
	return diff.NewConfig(diff.WithExcludeElements(elems), diff.WithExcludeExtensions(exts))
}

var (
	checkerConfig = sync.OnceValue(func() *checker.Config { return checker.NewConfig(checker.GetAllChecks()) })
	localizer     = checker.NewDefaultLocalizer()
)

// schemaChanges diffs one operation's parameters, request body, responses
// and the schemas they reach with oasdiff, classifies oasdiff's findings for
// the generated Go client, and reports documentation changes separately.
func schemaChanges(base, rev *Operation) (out []Change, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%s: oasdiff failed comparing %s with %s: %v", base.Key, base.Origin, rev.Origin, r)
		}
	}()
	b, r := base.diffDoc(base.Key), rev.diffDoc(base.Key)
	full, err := diff.Get(diff.NewConfig(diff.WithExcludeElements([]string{diff.ExcludeEndpointsOption})), b, r)
	if err != nil {
		return nil, fmt.Errorf("%s: oasdiff failed comparing %s with %s: %w", base.Key, base.Origin, rev.Origin, err)
	}
	if full.Empty() {
		return nil, nil // the common case: nothing at all changed
	}
	d, sources, err := diff.GetWithOperationsSourcesMap(diffConfig(""),
		&load.SpecInfo{Url: base.Origin, Spec: b}, &load.SpecInfo{Url: rev.Origin, Spec: r})
	if err != nil {
		return nil, fmt.Errorf("%s: oasdiff failed comparing %s with %s: %w", base.Key, base.Origin, rev.Origin, err)
	}
	if !d.Empty() {
		out = append(out, checkerChanges(base, rev, d, sources)...)
	}
	docs, err := docsChanges(base, rev, b, r, d, full)
	if err != nil {
		return nil, err
	}
	return append(out, docs...), nil
}

// finding is an oasdiff change with what renames and statuses need.
type finding struct {
	change Change
	id     string
	args   []any
}

func checkerChanges(base, rev *Operation, d *diff.Diff, sources *diff.OperationsSourcesMap) []Change {
	var fs []finding
	seen := map[string]bool{}
	for _, c := range checker.CheckBackwardCompatibilityUntilLevel(checkerConfig(), d, sources, checker.INFO) {
		id := c.GetId()
		if skippedRule(id) {
			continue
		}
		msg := c.GetUncolorizedText(localizer)
		if seen[id+"\x00"+msg] {
			continue
		}
		seen[id+"\x00"+msg] = true
		level := ruleLevel(id)
		switch {
		case id == "response-non-success-status-removed":
			level = removedResponseLevel(base, c.GetArgs())
		case level == Breaking && strings.Contains(id, "-type-") && goTypeKept(c.GetArgs()):
			level = NonBreaking
			msg += " (the generated Go type stays the same)"
		}
		ch := newChange(base, rev, id, level, msg)
		ch.OasdiffLevel = c.GetLevel().String()
		fs = append(fs, finding{change: ch, id: id, args: c.GetArgs()})
	}
	fs = mergeRenames(fs)
	out := make([]Change, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.change)
	}
	if len(out) == 0 {
		out = append(out, newChange(base, rev, KindOtherChange, NonBreaking,
			"changed in a way no oasdiff rule classifies: "+diffSummary(d)))
	}
	return out
}

// removedResponseLevel: a removed non-success response breaks code only when
// it had a body the generated client decodes into a JSON<status> field.
func removedResponseLevel(base *Operation, args []any) Level {
	if len(args) == 0 || base.op.Responses == nil {
		return NonBreaking
	}
	status, _ := args[0].(string)
	if resp := base.op.Responses.Value(status); resp != nil && resp.Value != nil && len(resp.Value.Content) > 0 {
		return Breaking
	}
	return NonBreaking
}

// goTypeFormats are the formats oapi-codegen (with this project's type
// mappings) turns into a Go type other than its type's default one.
var goTypeFormats = map[string]bool{
	"int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"float": true, "double": true, "decimal": true,
	"byte": true, "binary": true, "date": true, "date-time": true, "email": true, "uuid": true, "json": true,
}

// goTypeKept reports a format-only change between two formats that leave the
// Go type alone (e.g. none → uri: both are string). The args of oasdiff's
// type rules end with the changed dimension ("type", "format" or
// "type/format"), the old and new values, and sometimes a status.
func goTypeKept(args []any) bool {
	for i := len(args) - 3; i >= 0; i-- {
		dim, _ := args[i].(string)
		if dim != "format" && dim != "type" && dim != "type/format" {
			continue
		}
		if dim != "format" {
			return false
		}
		from, _ := args[i+1].(string)
		to, _ := args[i+2].(string)
		return !goTypeFormats[from] && !goTypeFormats[to]
	}
	return false
}

// mergeRenames turns a removed parameter and an added one in the same
// location whose names differ only in case and separators (customerId →
// customer_id) into one breaking rename.
func mergeRenames(fs []finding) []finding {
	drop := map[int]bool{}
	var renames []finding
	for i, rm := range fs {
		if !strings.HasPrefix(rm.id, "request-parameter-removed") || len(rm.args) < 2 {
			continue
		}
		for j, ad := range fs {
			if drop[j] || (ad.id != "new-optional-request-parameter" && ad.id != "new-required-request-parameter") || len(ad.args) < 2 {
				continue
			}
			if fmt.Sprint(rm.args[0]) != fmt.Sprint(ad.args[0]) ||
				normName(fmt.Sprint(rm.args[1])) != normName(fmt.Sprint(ad.args[1])) {
				continue
			}
			drop[i], drop[j] = true, true
			ch := rm.change
			ch.Kind, ch.Level, ch.Breaking = KindParameterRenamed, Breaking, true
			// Breaking on the wire: a client built from the old spec sends a
			// name the server no longer reads. The Go field name may well stay
			// (CustomerID for both customerId and customer_id): that is the
			// Go API diff's to say (--go-api), not this one's.
			ch.Message = fmt.Sprintf("renamed the `%v` request parameter `%v` to `%v` (on the wire: a client built from the old spec sends a name the server no longer reads)",
				rm.args[0], rm.args[1], ad.args[1])
			renames = append(renames, finding{change: ch, id: KindParameterRenamed})
			break
		}
	}
	var out []finding
	for i, f := range fs {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return append(renames, out...)
}

func normName(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(s))
}

// docsChanges reports which documentation elements changed, as one
// docs-only change. structural is the diff that ignores all of them, full the
// one that ignores none.
func docsChanges(base, rev *Operation, b, r *openapi3.T, structural, full *diff.Diff) ([]Change, error) {
	ref, err := canonicalDiff(structural)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base.Key, err)
	}
	if got, err := canonicalDiff(full); err != nil {
		return nil, fmt.Errorf("%s: %w", base.Key, err)
	} else if reflect.DeepEqual(got, ref) {
		return nil, nil
	}
	var changed []string
	for _, keep := range append(slices.Clone(docElements), docExtensions...) {
		d, err := diff.Get(diffConfig(keep), b, r)
		if err != nil {
			return nil, fmt.Errorf("%s: oasdiff failed comparing %s with %s: %w", base.Key, base.Origin, rev.Origin, err)
		}
		got, err := canonicalDiff(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", base.Key, err)
		}
		if !reflect.DeepEqual(got, ref) {
			changed = append(changed, docElementName(keep))
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return []Change{newChange(base, rev, KindDocsChanged, DocsOnly, "documentation changed: "+strings.Join(changed, ", "))}, nil
}

func docElementName(e string) string {
	switch e {
	case diff.ExcludeDescriptionOption:
		return "descriptions"
	case diff.ExcludeSummaryOption:
		return "summary"
	case diff.ExcludeExamplesOption:
		return "examples"
	case diff.ExcludeTitleOption:
		return "schema titles"
	case diff.ExcludeTagsOption:
		return "tags"
	}
	return e + " extension"
}

// canonicalDiff renders a diff as generic JSON with string lists sorted, so
// that two diffs can be compared whatever the order oasdiff listed names in.
// Only the paths part is rendered: the one-operation documents differ
// nowhere else (and the endpoints part, a second view of the paths, does not
// render as JSON).
func canonicalDiff(d *diff.Diff) (any, error) {
	if d.Empty() || d.PathsDiff == nil {
		return nil, nil
	}
	if err := diffTooLarge(d.PathsDiff, maxDiffNodes); err != nil {
		return nil, fmt.Errorf("rendering an oasdiff diff: %w", err)
	}
	data, err := json.Marshal(d.PathsDiff)
	if err != nil {
		return nil, fmt.Errorf("rendering an oasdiff diff: %w", err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("rendering an oasdiff diff: %w", err)
	}
	return sortStringLists(v), nil
}

func sortStringLists(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = sortStringLists(e)
		}
	case []any:
		allStrings := true
		for i, e := range t {
			t[i] = sortStringLists(e)
			if _, ok := t[i].(string); !ok {
				allStrings = false
			}
		}
		if allStrings {
			sort.Slice(t, func(i, j int) bool { return t[i].(string) < t[j].(string) })
		}
	}
	return v
}

// diffSummary names up to three places a diff touches, for changes no rule
// classifies.
func diffSummary(d *diff.Diff) string {
	v, err := canonicalDiff(d)
	if err != nil || v == nil {
		return "(no detail)"
	}
	var leaves []string
	var walk func(prefix []string, v any)
	walk = func(prefix []string, v any) {
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			leaves = append(leaves, strings.Join(prefix, "."))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p := prefix
			if k != "modified" && k != "paths" && k != "operations" {
				p = append(slices.Clone(prefix), k)
			}
			walk(p, m[k])
		}
	}
	walk(nil, v)
	if len(leaves) > 3 {
		leaves = append(leaves[:3], fmt.Sprintf("and %d more", len(leaves)-3))
	}
	return strings.Join(leaves, "; ")
}
