package nullable_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kelviq/kelviq-go/nullable"
)

// patch is shaped like the generated request bodies: nullable fields carry
// omitempty and omitzero (the overlay in api/ adds x-omitzero).
type patch struct {
	Name  nullable.Nullable[string]  `json:"name,omitempty,omitzero"`
	Email nullable.Nullable[string]  `json:"email,omitempty,omitzero"`
	Limit nullable.Nullable[int]     `json:"limit,omitempty,omitzero"`
	Price nullable.Nullable[float64] `json:"price,omitempty,omitzero"`
	Flag  nullable.Nullable[bool]    `json:"flag,omitempty,omitzero"`
}

// A PATCH body leaves out what was not set, sends null for SetNull and the
// value for Set: the three states survive encoding.
func TestThreeStatesInARequestBody(t *testing.T) {
	var p patch
	p.Email.SetNull()
	p.Limit.Set(0) // a zero value is a value, not absence
	p.Flag.Set(false)
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"email":null,"limit":0,"flag":false}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	empty, _ := json.Marshal(patch{})
	if string(empty) != `{}` {
		t.Errorf("unset fields were sent: %s", empty)
	}
}

func TestDecodeThreeStates(t *testing.T) {
	var p patch
	if err := json.Unmarshal([]byte(`{"name":"Ada \"the\" first","email":null,"limit":7,"price":12.5,"flag":true}`), &p); err != nil {
		t.Fatal(err)
	}
	if v, err := p.Name.Get(); err != nil || v != `Ada "the" first` {
		t.Errorf("name %q %v", v, err)
	}
	if !p.Email.IsNull() || !p.Email.IsSpecified() {
		t.Error("email: want an explicit null")
	}
	if _, err := p.Email.Get(); !errors.Is(err, nullable.ErrNull) {
		t.Errorf("Get on null: %v", err)
	}
	if p.Limit.MustGet() != 7 || p.Price.MustGet() != 12.5 || !p.Flag.MustGet() {
		t.Errorf("values %v %v %v", p.Limit.GetOrEmpty(), p.Price.GetOrEmpty(), p.Flag.GetOrEmpty())
	}
	var q patch
	_ = json.Unmarshal([]byte(`{}`), &q)
	if q.Name.IsSpecified() || q.Name.IsNull() || !q.Name.IsZero() {
		t.Error("absent field: want unspecified")
	}
	if _, err := q.Name.Get(); !errors.Is(err, nullable.ErrUnspecified) {
		t.Errorf("Get on absent: %v", err)
	}
	q.Name.Set("x")
	q.Name.SetUnspecified()
	if q.Name.IsSpecified() {
		t.Error("SetUnspecified left a value")
	}
}

// The fast paths decode exactly as encoding/json does, errors included.
func TestScalarFastPathAgreesWithEncodingJSON(t *testing.T) {
	inputs := []string{`"plain"`, `"esc\u00e9"`, `"tab\t"`, `"\ud800"`, "\"\xff\"", `""`, `123`, `-0`, `1e3`, `1.5`, `9223372036854775808`,
		`true`, `false`, `"1"`, `[1]`, `{}`, `01`, `-`, `1.`, `+1`, `0x10`, `2147483648`, `NaN`}
	for _, in := range inputs {
		checkAgrees[string](t, in)
		checkAgrees[int](t, in)
		checkAgrees[int32](t, in)
		checkAgrees[int64](t, in)
		checkAgrees[float64](t, in)
		checkAgrees[bool](t, in)
	}
}

func checkAgrees[T comparable](t *testing.T, in string) {
	t.Helper()
	var want T
	wantErr := json.Unmarshal([]byte(in), &want)
	var got nullable.Nullable[T]
	gotErr := got.UnmarshalJSON([]byte(in))
	if in == "null" {
		if gotErr != nil || !got.IsNull() {
			t.Errorf("%T null: got %v, %v; want an explicit null", want, got, gotErr)
		}
		return
	}
	if (wantErr == nil) != (gotErr == nil) {
		t.Errorf("%T %s: encoding/json error %v, ours %v", want, in, wantErr, gotErr)
		return
	}
	if wantErr == nil && got.MustGet() != want {
		t.Errorf("%T %s: encoding/json %v, ours %v", want, in, want, got.MustGet())
	}
}

func FuzzScalarFastPath(f *testing.F) {
	for _, s := range []string{`"a"`, `1`, `-2.5e3`, `true`, `null`, `"\n"`, `"é"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return // encoding/json rejects these before calling UnmarshalJSON
		}
		checkAgrees[string](t, in)
		checkAgrees[int](t, in)
		checkAgrees[float64](t, in)
		checkAgrees[bool](t, in)
	})
}
