package kelviq

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/kelviq/kelviq-go/nullable"
)

// JSON has one number type: 10, 10.0, 1e1 and 1E+1 are the same number,
// and kelviq's own validator accepts each for an integer. encoding/json
// decodes only the first into an int64, and one such count fails the whole
// body. The generated parser decodes as it always did; when that fails
// with a number for an integer field, the body is rewritten for the
// response's Go type (each number whose target is an integer kind and
// whose value is a whole number in range, spelled as a plain integer) and
// decoded once more. A fraction (10.5) or a number out of the field's
// range (1e30) is an error naming the field.
//
// Not rewritten: the inside of a type with its own decoder that is not a
// struct of fields (a union such as PlanCharge_Tiers_UpTo keeps its raw
// JSON and decodes it when asked, with As<Variant>, which takes 1000.0 for
// its integer variant itself: api's unmarshalUnionData), and values whose
// Go type is interface{} (they decode into float64 whatever the spelling).

// reparseIntegral decodes held's body once more when err is
// encoding/json's error for a number into an integer field, with the
// integral numbers of the body respelled for their integer fields. It
// returns err unchanged when the body has nothing to respell.
func reparseIntegral[R any](rsp *http.Response, held *callBody, err error, parse func(*http.Response) (*R, error)) (*R, error) {
	if !integerTypeError(err) || held.held == nil {
		return nil, err
	}
	field, ok := reflect.TypeFor[R]().FieldByName("JSON" + strconv.Itoa(rsp.StatusCode))
	if !ok {
		return nil, err
	}
	fixed, n, werr := respellIntegers(held.held, field.Type, canonicalInteger)
	if werr != nil {
		return nil, werr
	}
	if n == 0 {
		return nil, err
	}
	rsp.Body = heldBody{b: fixed}
	res, err := parse(rsp)
	rsp.Body = held
	if err != nil {
		return nil, err
	}
	// Body stays what the server sent.
	if body := reflect.ValueOf(res).Elem().FieldByName("Body"); body.IsValid() && body.CanSet() && body.Kind() == reflect.Slice {
		body.SetBytes(held.held)
	}
	return res, nil
}

// integerTypeError reports whether err is encoding/json's error for a
// JSON number decoded into an integer kind.
func integerTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Type == nil || !strings.HasPrefix(te.Value, "number") {
		return false
	}
	return isIntegerKind(te.Type.Kind())
}

func isIntegerKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// respellFunc returns the spelling of the number tok for an integer field
// of type t, or nil to leave it; an error refuses the body.
type respellFunc func(tok []byte, t reflect.Type) ([]byte, error)

// canonicalInteger spells an integral number in t's range as a plain JSON
// integer (10.0, 1e1 → 10; -0 → 0). A plain integer is left as it is:
// encoding/json reads it, and reports one out of range itself.
func canonicalInteger(tok []byte, t reflect.Type) ([]byte, error) {
	if isPlainInteger(tok) {
		return nil, nil
	}
	digits, neg, err := integerDigits(tok)
	if err != nil {
		return nil, fmt.Errorf("%w, for a field of type %s", err, t)
	}
	if err := inRange(digits, neg, t); err != nil {
		return nil, err
	}
	if neg {
		return append([]byte{'-'}, digits...), nil
	}
	return []byte(digits), nil
}

// isPlainInteger reports whether tok is a JSON integer: an optional '-',
// then "0" or digits without a leading zero.
func isPlainInteger(tok []byte) bool {
	if len(tok) > 0 && tok[0] == '-' {
		tok = tok[1:]
	}
	if len(tok) == 0 || (tok[0] == '0' && len(tok) > 1) {
		return false
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxIntegerDigits bounds the digits of an integral number: 20 is the
// length of the largest uint64. More is out of range of every integer kind.
const maxIntegerDigits = 20

// integerDigits returns the decimal digits of the JSON number tok when it
// is a whole number (no leading zeros; "0" for zero, whose sign is then
// dropped), else an error saying it is a fraction or out of range.
func integerDigits(tok []byte) (digits string, neg bool, err error) {
	s := string(tok)
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) || (strings.Contains(mant, ".") && frac == "") {
		return "", false, fmt.Errorf("%s is not a JSON number", clean(string(tok), 64))
	}
	e := 0
	if exp != "" {
		sign := 1
		switch exp[0] {
		case '+':
			exp = exp[1:]
		case '-':
			sign, exp = -1, exp[1:]
		}
		if exp == "" || !allDigits(exp) {
			return "", false, fmt.Errorf("%s is not a JSON number", clean(string(tok), 64))
		}
		for _, c := range exp {
			if e < 1_000_000 { // saturate: beyond it the answer is known
				e = e*10 + int(c-'0')
			}
		}
		e *= sign
	}
	m := strings.TrimLeft(intPart+frac, "0")
	e -= len(frac)
	if m == "" {
		return "0", false, nil // 0, -0, 0.0e5
	}
	for strings.HasSuffix(m, "0") {
		m = m[:len(m)-1]
		e++
	}
	switch {
	case e < 0:
		return "", false, fmt.Errorf("the number %s is not a whole number", clean(string(tok), 64))
	case len(m)+e > maxIntegerDigits:
		return "", false, fmt.Errorf("the number %s is out of range", clean(string(tok), 64))
	}
	return m + strings.Repeat("0", e), neg, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// inRange checks that the integer (digits, neg) fits t's kind.
func inRange(digits string, neg bool, t reflect.Type) error {
	var err error
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s := digits
		if neg {
			s = "-" + digits
		}
		_, err = strconv.ParseInt(s, 10, t.Bits())
	default:
		if neg {
			return fmt.Errorf("the number -%s is out of range of %s", digits, t)
		}
		_, err = strconv.ParseUint(digits, 10, t.Bits())
	}
	if err != nil {
		s := digits
		if neg {
			s = "-" + digits
		}
		return fmt.Errorf("the number %s is out of range of %s", clean(s, 64), t)
	}
	return nil
}

// respellIntegers walks the JSON document body alongside the Go type t
// (what encoding/json would decode it into) and replaces each number whose
// target is an integer kind by what respell returns for it (nil: left as
// it is). It returns the new document, how many numbers it replaced and
// the first error, which names the field by its JSON path
// ("entitlements[2].usageLimit"). body must be one JSON value; anything
// else is an error, never a panic.
func respellIntegers(body []byte, t reflect.Type, respell respellFunc) ([]byte, int, error) {
	w := &walker{b: body, respell: respell}
	w.space()
	if err := w.value(t, 0); err != nil {
		return nil, 0, err
	}
	w.space()
	if w.i != len(w.b) {
		return nil, 0, w.syntax()
	}
	if w.n == 0 {
		return body, 0, nil
	}
	out := make([]byte, 0, len(body))
	last := 0
	for _, e := range w.edits {
		out = append(out, body[last:e.start]...)
		out = append(out, e.text...)
		last = e.end
	}
	return append(out, body[last:]...), w.n, nil
}

type edit struct {
	start, end int
	text       []byte
}

type walker struct {
	b       []byte
	i       int
	respell respellFunc
	edits   []edit
	n       int
	path    []pathPart // JSON path of the value being read, for errors
}

// pathPart is one step of a walker's path: an object member (key, the
// JSON string literal as the body spells it, quotes included) or an array
// index. Spelled out only for an error: a body of many members costs no
// string per member.
type pathPart struct {
	key   []byte // nil: an index
	index int
}

// maxDepth bounds the nesting the walker follows, as encoding/json does.
const maxDepth = 10000

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	nullablePkg         = reflect.TypeFor[nullable.Nullable[int]]().PkgPath()
)

func (w *walker) syntax() error {
	return fmt.Errorf("the body is not valid JSON at offset %d", w.i)
}

func (w *walker) where() string {
	if len(w.path) == 0 {
		return "the body"
	}
	var b strings.Builder
	for _, p := range w.path {
		if p.key == nil {
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
			continue
		}
		var key string
		_ = json.Unmarshal(p.key, &key) // read by object already
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
	}
	return b.String()
}

func (w *walker) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value reads one JSON value whose Go target is t (nil: none, the value
// is only skipped).
func (w *walker) value(t reflect.Type, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: nested too deeply", w.where())
	}
	t = decodeTarget(t)
	if w.i >= len(w.b) {
		return w.syntax()
	}
	switch c := w.b[w.i]; {
	case c == '{':
		return w.object(t, depth)
	case c == '[':
		return w.array(t, depth)
	case c == '"':
		return w.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return w.number(t)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(string(w.b[w.i:min(len(w.b), w.i+5)]), lit) {
				w.i += len(lit)
				return nil
			}
		}
		return w.syntax()
	}
}

// decodeTarget is the type encoding/json decodes a value into for t: through
// pointers and nullable.Nullable[T] to T; nil for a type whose own decoder
// reads the value other than field by field (a union, a time, a UUID) and
// for interface types.
func decodeTarget(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	if got, ok := decodeTargets.Load(t); ok {
		return got.(targetOf).t
	}
	got := decodeTargetOf(t)
	decodeTargets.Store(t, targetOf{got})
	return got
}

// decodeTargets caches decodeTarget, which the walker asks for every
// value: reflect.PointerTo and Implements each time cost a hostile body
// of many values as much again as reading it.
var decodeTargets sync.Map // reflect.Type → targetOf

type targetOf struct{ t reflect.Type }

func decodeTargetOf(t reflect.Type) reflect.Type {
	for t != nil {
		switch {
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
			continue
		case t.PkgPath() == nullablePkg && strings.HasPrefix(t.Name(), "Nullable["):
			get, _ := t.MethodByName("Get")
			t = get.Type.Out(0)
			continue
		case t.Kind() == reflect.Interface:
			return nil
		}
		pt := reflect.PointerTo(t)
		if (pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType)) && !hasJSONFields(t) {
			return nil
		}
		return t
	}
	return nil
}

// hasJSONFields reports a struct with exported fields that a generated
// decoder of additional properties reads field by field, as encoding/json
// would.
func hasJSONFields(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && f.Tag.Get("json") != "" && f.Tag.Get("json") != "-" {
			return true
		}
	}
	return false
}

func (w *walker) object(t reflect.Type, depth int) error {
	w.i++ // {
	w.space()
	if w.i < len(w.b) && w.b[w.i] == '}' {
		w.i++
		return nil
	}
	for {
		w.space()
		start := w.i
		if err := w.str(); err != nil {
			return err
		}
		lit := w.b[start:w.i]
		key := lit[1 : len(lit)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			// Escapes: decoded as encoding/json does (rare; a plain key
			// is its own bytes).
			var s string
			if err := json.Unmarshal(lit, &s); err != nil {
				return w.syntax()
			}
			key = []byte(s)
		}
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return w.syntax()
		}
		w.i++
		w.space()
		w.path = append(w.path, pathPart{key: lit})
		if err := w.value(memberType(t, key), depth+1); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
		w.space()
		if w.i >= len(w.b) {
			return w.syntax()
		}
		switch w.b[w.i] {
		case ',':
			w.i++
		case '}':
			w.i++
			return nil
		default:
			return w.syntax()
		}
	}
}

// memberType is the Go type of the member key of an object decoded into
// t: a struct's field by its JSON name (exactly, else ignoring case, as
// encoding/json matches), else its AdditionalProperties' element; a map's
// element; nil when nothing receives it.
func memberType(t reflect.Type, key []byte) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		ft := fieldsOf(t)
		if f, ok := ft.lookup(key); ok {
			return f
		}
		return ft.additional
	}
	return nil
}

// fieldTable is what memberType needs of a struct type, made once per
// type (fieldsOf): reflect.VisibleFields for each member made a 16 MiB
// body of small members cost seconds of CPU.
type fieldTable struct {
	exact      map[string]reflect.Type // the first field of each JSON name
	names      [][]byte                // in field order, for a match ignoring case
	types      []reflect.Type
	additional reflect.Type // AdditionalProperties' element; nil: none
}

var fieldTables sync.Map // reflect.Type → *fieldTable

func fieldsOf(t reflect.Type) *fieldTable {
	if ft, ok := fieldTables.Load(t); ok {
		return ft.(*fieldTable)
	}
	ft := &fieldTable{exact: map[string]reflect.Type{}}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous && f.Tag.Get("json") == "" && decodeTarget(f.Type) != nil && decodeTarget(f.Type).Kind() == reflect.Struct {
			continue // unexported, or an embedded struct (or *struct) whose fields are promoted
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := ft.exact[name]; !dup {
			ft.exact[name] = f.Type
		}
		ft.names = append(ft.names, []byte(name))
		ft.types = append(ft.types, f.Type)
	}
	if ap, ok := t.FieldByName("AdditionalProperties"); ok && ap.Type.Kind() == reflect.Map {
		ft.additional = ap.Type.Elem()
	}
	got, _ := fieldTables.LoadOrStore(t, ft)
	return got.(*fieldTable)
}

// lookup finds the field of JSON name key: exactly, else the first that
// matches ignoring case.
func (ft *fieldTable) lookup(key []byte) (reflect.Type, bool) {
	if f, ok := ft.exact[string(key)]; ok {
		return f, true
	}
	for i, name := range ft.names {
		if bytes.EqualFold(name, key) {
			return ft.types[i], true
		}
	}
	return nil, false
}

func (w *walker) array(t reflect.Type, depth int) error {
	w.i++ // [
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	w.space()
	if w.i < len(w.b) && w.b[w.i] == ']' {
		w.i++
		return nil
	}
	for n := 0; ; n++ {
		w.space()
		w.path = append(w.path, pathPart{index: n})
		if err := w.value(elem, depth+1); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
		w.space()
		if w.i >= len(w.b) {
			return w.syntax()
		}
		switch w.b[w.i] {
		case ',':
			w.i++
		case ']':
			w.i++
			return nil
		default:
			return w.syntax()
		}
	}
}

// str skips a string literal.
func (w *walker) str() error {
	if w.i >= len(w.b) || w.b[w.i] != '"' {
		return w.syntax()
	}
	for w.i++; w.i < len(w.b); w.i++ {
		switch w.b[w.i] {
		case '\\':
			w.i++
		case '"':
			w.i++
			return nil
		}
	}
	return w.syntax()
}

func (w *walker) number(t reflect.Type) error {
	start := w.i
	for w.i < len(w.b) && strings.IndexByte("+-0123456789.eE", w.b[w.i]) >= 0 {
		w.i++
	}
	if t == nil || !isIntegerKind(t.Kind()) {
		return nil
	}
	text, err := w.respell(w.b[start:w.i], t)
	if err != nil {
		return fmt.Errorf("%s: %w", w.where(), err)
	}
	if text != nil {
		w.edits = append(w.edits, edit{start: start, end: w.i, text: text})
		w.n++
	}
	return nil
}
