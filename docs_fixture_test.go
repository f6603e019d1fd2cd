package kelviqgo_test

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/kelviq/kelviq-go/api"
)

// The documented example of GET /partner/organizations/, from the recorded
// docs page, decodes into the generated list type with every field set.
func TestDocsExampleDecodesIntoGeneratedType(t *testing.T) {
	page, err := os.ReadFile("testdata/docs/list-partner-organizations.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)````yaml [^\n]*\n(.*?)\n````").FindSubmatch(page)
	if m == nil {
		t.Fatal("the recorded page has no yaml fence")
	}
	doc, err := openapi3.NewLoader().LoadFromData(m[1])
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Find("/partner/organizations/").Get
	example := op.Responses.Status(200).Value.Content.Get("application/json").Example
	raw, err := json.Marshal(example)
	if err != nil {
		t.Fatal(err)
	}

	var list api.PartnerOrganizationList
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	if list.Count == nil || *list.Count != 1 || len(list.Results) != 1 {
		t.Fatalf("decoded %+v, want count 1 and one organization", list)
	}
	unset := unsetFields(reflect.ValueOf(list.Results[0]), "PartnerOrganization")
	for _, f := range unset {
		t.Errorf("%s is not populated by the documented example", f)
	}
	if got := list.Results[0].OrganizationSlug.MustGet(); got != "acme-corp" {
		t.Errorf("organizationSlug %q", got)
	}
	// Round trip: the generated type writes back what it read.
	back, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal(raw, &a)
	_ = json.Unmarshal(back, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip changed the example:\n%s\n%s", raw, back)
	}
}

// unsetFields lists the fields of a struct that are zero, nil, or an
// unspecified or null Nullable.
func unsetFields(v reflect.Value, path string) []string {
	var out []string
	for i := range v.NumField() {
		f, name := v.Field(i), path+"."+v.Type().Field(i).Name
		if m := f.MethodByName("IsSpecified"); m.IsValid() {
			if !m.Call(nil)[0].Bool() || f.MethodByName("IsNull").Call(nil)[0].Bool() {
				out = append(out, name)
			}
			continue
		}
		if f.IsZero() {
			out = append(out, name)
		}
	}
	return out
}
