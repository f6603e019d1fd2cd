package api_test

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// Every field of every model type (in particular every pointer or Nullable
// one) has its accessor GetX, which returns the zero value on a nil receiver
// and on an absent field, and the field's value when it is set: a struct of
// package api as a pointer (to the field itself, or to a copy of a
// Nullable's value), so that calls chain. The types come from modelTypes
// (generated); TestModelListIsComplete checks that list against the source.
func TestEveryFieldHasANilSafeAccessor(t *testing.T) {
	checked, optionalChecked := 0, 0
	for _, m := range modelTypes {
		ptr := reflect.TypeOf(m)
		typ := ptr.Elem()
		for i := range typ.NumField() {
			f := typ.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); !f.IsExported() || name == "" || name == "-" {
				continue // AdditionalProperties has Get(name) instead
			}
			name := typ.Name() + ".Get" + f.Name
			meth, ok := ptr.MethodByName("Get" + f.Name)
			if !ok {
				t.Errorf("%s: missing (field type %s)", name, f.Type)
				continue
			}
			if meth.Type.NumIn() != 1 || meth.Type.NumOut() != 1 {
				t.Errorf("%s: signature %s, want no arguments and one result", name, meth.Type)
				continue
			}
			if got, want := meth.Type.Out(0), accessorResult(f.Type); got != want {
				t.Errorf("%s returns %s, want %s", name, got, want)
				continue
			}
			checkAccessor(t, name, ptr, f, meth)
			checked++
			if f.Type.Kind() == reflect.Pointer || isNullable(f.Type) {
				optionalChecked++
			}
		}
	}
	// The spec has hundreds of fields; a handful means the walk broke.
	if checked < 600 || optionalChecked < 500 {
		t.Errorf("checked only %d accessors", checked)
	}
	t.Logf("%d accessors (%d of pointer or Nullable fields) on %d model types", checked, optionalChecked, len(modelTypes))
}

func checkAccessor(t *testing.T, name string, ptr reflect.Type, f reflect.StructField, meth reflect.Method) {
	t.Helper()
	call := func(recv reflect.Value) (out reflect.Value, panicked any) {
		defer func() { panicked = recover() }()
		return meth.Func.Call([]reflect.Value{recv})[0], nil
	}

	// A nil receiver, then a zero value (the field absent).
	for what, recv := range map[string]reflect.Value{"nil receiver": reflect.Zero(ptr), "absent field": reflect.New(ptr.Elem())} {
		got, p := call(recv)
		switch {
		case p != nil:
			t.Errorf("%s on a %s panics: %v", name, what, p)
		case what == "absent field" && returnsPointer(f.Type):
			// A required struct is never absent: a pointer to its zero value.
			if got.IsNil() || !got.Elem().IsZero() {
				t.Errorf("%s on a zero value = %v, want a pointer to the zero %s", name, got, f.Type)
			}
		case !got.IsZero():
			t.Errorf("%s on a %s = %v, want the zero value", name, what, got)
		}
	}

	// The field set: the accessor returns its value.
	recv := reflect.New(ptr.Elem())
	field := recv.Elem().FieldByIndex(f.Index)
	var want reflect.Value
	switch {
	case f.Type.Kind() == reflect.Pointer:
		field.Set(reflect.New(f.Type.Elem()))
		field.Elem().Set(nonZero(f.Type.Elem(), 3))
		want = field
		if !returnsPointer(f.Type.Elem()) {
			want = field.Elem()
		}
	case isNullable(f.Type): // Set(v)
		set := field.Addr().MethodByName("Set")
		v := nonZero(set.Type().In(0), 3)
		set.Call([]reflect.Value{v})
		want = v
	case returnsPointer(f.Type): // a struct: its address
		field.Set(nonZero(f.Type, 3))
		want = field.Addr()
	default:
		field.Set(nonZero(f.Type, 3))
		want = field
	}
	got, p := call(recv)
	switch {
	case p != nil:
		t.Errorf("%s on a set field panics: %v", name, p)
	case got.Kind() == reflect.Pointer && want.Kind() != reflect.Pointer:
		// Nullable[S] of a struct S: a pointer to a copy.
		if got.IsNil() || !reflect.DeepEqual(got.Elem().Interface(), want.Interface()) {
			t.Errorf("%s on a set field = %v, want a pointer to %v", name, got, want)
		}
	case got.Kind() == reflect.Pointer:
		if got.Pointer() != want.Pointer() {
			t.Errorf("%s on a set field returns another pointer than the field's", name)
		}
	case !reflect.DeepEqual(got.Interface(), want.Interface()):
		t.Errorf("%s on a set field = %#v, want %#v", name, got.Interface(), want.Interface())
	}
}

var apiPkg = reflect.TypeFor[api.BillingAddress]().PkgPath()

func isNullable(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasSuffix(t.PkgPath(), "/nullable") && strings.HasPrefix(t.Name(), "Nullable[")
}

// returnsPointer reports whether the accessor of a field holding a t returns
// *t rather than t: model types of package api (structs with json fields,
// named or anonymous), so that accessors chain. A union (no exported
// fields) is returned as a value: its methods have value receivers.
func returnsPointer(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || (t.Name() != "" && t.PkgPath() != apiPkg) {
		return false
	}
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			return true
		}
	}
	return false
}

// accessorResult is the result type an accessor of a field of type t must have.
func accessorResult(t reflect.Type) reflect.Type {
	v := t
	switch {
	case t.Kind() == reflect.Pointer:
		v = t.Elem()
	case isNullable(t):
		get, _ := t.MethodByName("GetOrEmpty")
		v = get.Type.Out(0)
	}
	if returnsPointer(v) {
		return reflect.PointerTo(v)
	}
	return v
}

// serial makes every value nonZero returns different from the last.
var serial int

// nonZero returns a value of type t that is not its zero value (as far as
// exported fields allow) and differs from earlier ones, depth bounding the
// recursion.
func nonZero(t reflect.Type, depth int) reflect.Value {
	serial++
	v := reflect.New(t).Elem()
	if t == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, serial, 0, time.UTC)))
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString("value-" + strconv.Itoa(serial))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(serial))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(serial))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(serial) + 0.5)
	case reflect.Interface:
		v.Set(reflect.ValueOf("any-" + strconv.Itoa(serial)))
	case reflect.Array:
		if t.Len() > 0 {
			v.Index(0).Set(nonZero(t.Elem(), depth))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, 1, 1))
		if depth > 0 {
			v.Index(0).Set(nonZero(t.Elem(), depth-1))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(t))
		v.SetMapIndex(nonZero(t.Key(), depth), nonZero(t.Elem(), depth-1))
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
		if depth > 0 {
			v.Elem().Set(nonZero(t.Elem(), depth-1))
		}
	case reflect.Struct:
		if depth > 0 {
			for i := range t.NumField() {
				if t.Field(i).IsExported() {
					v.Field(i).Set(nonZero(t.Field(i).Type, depth-1))
				}
			}
		}
	}
	return v
}

// A chain never panics: whatever an accessor returns for an absent field or
// a nil receiver, each getter of that result (the GetX of a nested model,
// the Get(name) of additional properties, the As<Variant> of a union)
// answers, with a zero value or an error, instead of a nil pointer
// dereference; so does each getter of a nil model (res.JSON400.Get("x")).
// A union used to come back as a nil *PlanCharge_Tiers_UpTo whose
// value-receiver AsX panicked (tier.GetUpTo().AsPlanChargeTiersUpTo0()),
// and Get(name) had a value receiver (x.GetDetails().Get("value")).
func TestChainsThroughAbsentFieldsDoNotPanic(t *testing.T) {
	calls := 0
	callGetters := func(what string, v reflect.Value) {
		for j := range v.Type().NumMethod() {
			next := v.Type().Method(j)
			if !strings.HasPrefix(next.Name, "Get") && !strings.HasPrefix(next.Name, "As") {
				continue // setters and MarshalJSON: json.Marshal handles a nil pointer itself
			}
			args := []reflect.Value{v}
			for k := 1; k < next.Type.NumIn(); k++ {
				args = append(args, reflect.Zero(next.Type.In(k)))
			}
			calls++
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s.%s() panics: %v", what, next.Name, p)
					}
				}()
				next.Func.Call(args)
			}()
		}
	}
	for _, m := range modelTypes {
		ptr := reflect.TypeOf(m)
		callGetters(fmt.Sprintf("(nil %s)", ptr), reflect.Zero(ptr))
		for i := range ptr.NumMethod() {
			acc := ptr.Method(i)
			if !strings.HasPrefix(acc.Name, "Get") || acc.Type.NumIn() != 1 || acc.Type.NumOut() != 1 {
				continue
			}
			for what, recv := range map[string]reflect.Value{"nil": reflect.Zero(ptr), "zero": reflect.New(ptr.Elem())} {
				res := acc.Func.Call([]reflect.Value{recv})[0]
				rt := res.Type()
				if rt.PkgPath() == "" && rt.Kind() == reflect.Pointer {
					rt = rt.Elem()
				}
				if rt.PkgPath() == apiPkg {
					callGetters(fmt.Sprintf("(%s %s).%s()", what, ptr, acc.Name), res)
				}
			}
		}
	}
	if calls < 500 {
		t.Errorf("made %d getter calls: the walk is broken", calls)
	}
}
