package kelviq_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

// Every response type of the spec that holds an integer field, through
// the client against a loopback server: random values of the type,
// encoded, then each integer respelled at random (10 → 10.0, 1e1, 1.0E+1,
// 100e-1, -0 for 0 …), decode to the same value as the plain encoding.
// The respelling goes through the same walk of the JSON alongside the Go
// type that the client's decoding uses, so its count of integers is held
// against the generator's own count: a walk that misses a field (through
// a Nullable, a slice, a map, a type with additional properties) fails
// here. KELVIQ_INTEGRAL_ROUNDS sets the rounds per type (default 12).
func TestEveryResponseTypeDecodesIntegralSpellings(t *testing.T) {
	rounds := 12
	if v, err := strconv.Atoi(os.Getenv("KELVIQ_INTEGRAL_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 19))
	s, c := newBodyServer(t)
	types, respelled := 0, 0
	for _, op := range api.Operations {
		for _, st := range jsonStatuses(op) {
			field, ok := resultTypeOf(t, c, op).FieldByName("JSON" + strconv.Itoa(st))
			if !ok || !holdsIntegers(field.Type, map[reflect.Type]bool{}) {
				continue
			}
			types++
			for range rounds {
				g := &valueGen{rng: rng}
				v := g.value(field.Type.Elem(), 0)
				plain, err := json.Marshal(v.Interface())
				if err != nil {
					t.Fatalf("%s: %v", field.Type, err)
				}
				spelled, n, err := kelviq.RespellIntegers(plain, field.Type, func(tok []byte, _ reflect.Type) ([]byte, error) {
					return []byte(respell(rng, string(tok))), nil
				})
				if err != nil {
					t.Fatalf("%s: respelling %s: %v", op.ID, plain, err)
				}
				if n != g.ints {
					t.Errorf("%s: the walk found %d integers in %s, the value holds %d", op.ID, n, plain, g.ints)
				}
				respelled += n
				s.serve(string(plain))
				want, err := callForResult(t, c, op)
				if err != nil {
					t.Fatalf("%s: the plain body %s: %v", op.ID, plain, err)
				}
				s.serve(string(spelled))
				got, err := callForResult(t, c, op)
				if err != nil {
					t.Errorf("%s: %s: %v", op.ID, spelled, err)
					continue
				}
				w, g2 := want.Elem().FieldByName(field.Name).Interface(), got.Elem().FieldByName(field.Name).Interface()
				if !reflect.DeepEqual(w, g2) {
					t.Errorf("%s: %s decodes to %+v, the plain %s to %+v", op.ID, spelled, g2, plain, w)
				}
			}
		}
	}
	t.Logf("%d response types with integers, %d integers respelled", types, respelled)
	if types < 10 || respelled < types*rounds {
		t.Errorf("%d response types with integers, %d integers respelled: the walk or the generator misses them", types, respelled)
	}
}

// respell spells the JSON integer tok as another JSON number of the same
// value.
func respell(rng *rand.Rand, tok string) string {
	sign, digits := "", tok
	if strings.HasPrefix(tok, "-") {
		sign, digits = "-", tok[1:]
	}
	if digits == "0" && rng.IntN(3) == 0 {
		sign = "-" // -0 is 0
	}
	trailing := len(digits) - len(strings.TrimRight(digits, "0"))
	if digits == "0" {
		trailing = 0
	}
	e := []string{"e", "E"}[rng.IntN(2)]
	plus := []string{"", "+"}[rng.IntN(2)]
	switch rng.IntN(6) {
	case 0:
		return sign + digits + ".0"
	case 1:
		return sign + digits + "." + strings.Repeat("0", 1+rng.IntN(4))
	case 2:
		return sign + digits + e + plus + "0"
	case 3:
		k := 1 + rng.IntN(3)
		return sign + digits + strings.Repeat("0", k) + e + "-" + strconv.Itoa(k)
	case 4:
		if trailing > 0 {
			k := 1 + rng.IntN(trailing)
			return sign + digits[:len(digits)-k] + e + plus + strconv.Itoa(k)
		}
		return sign + digits + ".00" + e + "0"
	default:
		if len(digits) > 1 {
			return sign + digits[:1] + "." + digits[1:] + e + plus + strconv.Itoa(len(digits)-1)
		}
		return sign + "0." + digits + e + plus + "1"
	}
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	dateType   = reflect.TypeFor[openapi_types.Date]()
	uuidType   = reflect.TypeFor[openapi_types.UUID]()
	numberType = reflect.TypeFor[json.Number]()
	rawType    = reflect.TypeFor[json.RawMessage]()
)

// isNullable reports a nullable.Nullable[T] and returns T.
func isNullable(t reflect.Type) (reflect.Type, bool) {
	if t.PkgPath() != reflect.TypeFor[nullable.Nullable[int]]().PkgPath() || !strings.HasPrefix(t.Name(), "Nullable[") {
		return nil, false
	}
	get, _ := t.MethodByName("Get")
	return get.Type.Out(0), true
}

// isUnion reports oapi-codegen's union: a struct of unexported fields only.
func isUnion(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t == timeType || t == dateType {
		return false
	}
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return false
		}
	}
	return t.NumField() > 0
}

func isInteger(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Uint64
}

// holdsIntegers reports whether a value of t can hold an integer that
// encoding/json decodes field by field (not inside a union or []byte).
func holdsIntegers(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if inner, ok := isNullable(t); ok {
		return holdsIntegers(inner, seen)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Map:
		return holdsIntegers(t.Elem(), seen)
	case reflect.Slice, reflect.Array:
		return t.Elem().Kind() != reflect.Uint8 && holdsIntegers(t.Elem(), seen)
	case reflect.Struct:
		if t == timeType || t == dateType || isUnion(t) {
			return false
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("json") != "-" && holdsIntegers(f.Type, seen) {
				return true
			}
		}
		return false
	}
	return isInteger(t.Kind())
}

// valueGen fills values of the api's types at random and counts the
// integers it sets (every one nonzero, so that omitempty keeps it).
type valueGen struct {
	rng  *rand.Rand
	ints int
}

func (g *valueGen) value(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	if inner, ok := isNullable(t); ok {
		switch g.rng.IntN(4) {
		case 0: // absent
		case 1:
			v.Addr().MethodByName("SetNull").Call(nil)
		default:
			v.Addr().MethodByName("Set").Call([]reflect.Value{g.value(inner, depth+1)})
		}
		return v
	}
	switch {
	case t == timeType:
		v.Set(reflect.ValueOf(time.Unix(g.rng.Int64N(4e9), 0).UTC()))
		return v
	case t == dateType:
		v.Set(reflect.ValueOf(openapi_types.Date{Time: time.Date(2000+g.rng.IntN(50), time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), 0, 0, 0, 0, time.UTC)}))
		return v
	case t == uuidType:
		for i := range 16 {
			v.Index(i).SetUint(uint64(g.rng.IntN(256)))
		}
		return v
	case t == numberType:
		v.SetString(strconv.Itoa(g.rng.IntN(10000)) + ".25")
		return v
	case t == rawType:
		return v
	}
	deep := depth > 6
	switch t.Kind() {
	case reflect.Pointer:
		if !deep && g.rng.IntN(4) != 0 {
			v.Set(g.value(t.Elem(), depth+1).Addr())
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 || deep {
			return v
		}
		n := g.rng.IntN(3)
		s := reflect.MakeSlice(t, 0, n)
		for range n {
			s = reflect.Append(s, g.value(t.Elem(), depth+1))
		}
		v.Set(s)
	case reflect.Map:
		if t.Key().Kind() != reflect.String || t.Elem().Kind() == reflect.Interface || deep {
			return v
		}
		m := reflect.MakeMap(t)
		for i := range g.rng.IntN(3) {
			m.SetMapIndex(reflect.ValueOf("k"+strconv.Itoa(i)).Convert(t.Key()), g.value(t.Elem(), depth+1))
		}
		v.Set(m)
	case reflect.Struct:
		if isUnion(t) {
			return v // its variants decode when asked (AsX), not here
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" || f.Tag.Get("json") == "" {
				continue
			}
			v.Field(i).Set(g.value(f.Type, depth+1))
		}
	case reflect.String:
		v.SetString([]string{"a", "seats", "METER", "x y", "é\"\\", ""}[g.rng.IntN(6)])
	case reflect.Bool:
		v.SetBool(g.rng.IntN(2) == 0)
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{1, 10, 2.5, -3, 1e6, 0.125}[g.rng.IntN(6)])
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		g.ints++
		limit := int64(math.MaxInt64)
		if t.Bits() < 64 {
			limit = 1<<(t.Bits()-1) - 1
		}
		n := []int64{1 + g.rng.Int64N(1000), 100 * (1 + g.rng.Int64N(50)), limit, -limit - 1, -1 - g.rng.Int64N(99), 1 + g.rng.Int64N(limit)}[g.rng.IntN(6)]
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		g.ints++
		v.SetUint(1 + uint64(g.rng.IntN(1000)))
	}
	return v
}
