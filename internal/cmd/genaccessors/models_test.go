package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A small package in oapi-codegen's shape: models, a Params and a Result
// wrapper, and the ClientInterface that names the operations.
const sampleSource = `package api

import (
	"encoding/json"
	"time"

	nullable "github.com/kelviq/kelviq-go/nullable"
)

type Customer struct {
	Email   *string                   ` + "`json:\"email,omitempty\"`" + `
	Name    nullable.Nullable[string] ` + "`json:\"name,omitempty,omitzero\"`" + `
	Address *Address                  ` + "`json:\"address,omitempty\"`" + `
	Billing nullable.Nullable[Address] ` + "`json:\"billing,omitempty,omitzero\"`" + `
	Seen    *time.Time                ` + "`json:\"seen,omitempty\"`" + `
	Tags    []string                  ` + "`json:\"tags,omitempty\"`" + `
	ID      string                    ` + "`json:\"id\"`" + `
	Extra   map[string]interface{} ` + "`json:\"-\"`" + `
	Limit   nullable.Nullable[Limit] ` + "`json:\"limit,omitempty,omitzero\"`" + `
	Inline  *struct {
		A *int ` + "`json:\"a,omitempty\"`" + `
	} ` + "`json:\"inline,omitempty\"`" + `
}

// Limit is a union, as oapi-codegen writes one: no json fields, methods
// with value receivers.
type Limit struct {
	union json.RawMessage
}

func (l Limit) AsInt() (int, error) {
	var v int
	err := json.Unmarshal(l.union, &v)
	return v, err
}

type Address struct {
	City *string ` + "`json:\"city,omitempty\"`" + `
}

type ListCustomersParams struct {
	Page *int ` + "`form:\"page,omitempty\" json:\"page,omitempty\"`" + `
}

type ListCustomersResult struct {
	Body    []byte
	JSON200 *Customer
	// Headers302 the parsed response headers for an HTTP 302 response
	Headers302 *ListCustomersResult302Headers
}

type ListCustomersResult302Headers struct {
	Location *string
	Count    *int
}

type ClientInterface interface {
	ListCustomers() error
}
`

func writePackage(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadClassifiesFields(t *testing.T) {
	dir := writePackage(t, map[string]string{"api.gen.go": sampleSource})
	pkg, err := Load(dir, "api.gen.go", "accessors.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range pkg.Models {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, " "); got != "Customer Address" {
		t.Fatalf("models %q, want Customer Address (not the Params or the Result)", got)
	}
	got := map[string]string{}
	for _, a := range pkg.Models[0].Accessors {
		got[a.Field] = a.Kind + " " + a.Result
	}
	want := map[string]string{
		"Email":   "deref string",
		"Name":    "nullable string",
		"Address": "pointer *Address",
		"Billing": "nullablePtr *Address",
		"Seen":    "deref time.Time",
		// A union is no model: returned as a value, the zero union (whose
		// AsX errs) when absent, not as a nil pointer (whose AsX panics).
		"Limit": "nullable Limit",
	}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s: %q, want %q", f, got[f], w)
		}
	}
	if !strings.HasPrefix(got["Inline"], "pointer *struct {") {
		t.Errorf("Inline: %q, want a pointer to the anonymous struct", got["Inline"])
	}
	for f, w := range map[string]string{"Tags": "value []string", "ID": "value string"} {
		if got[f] != w {
			t.Errorf("%s: %q, want %q", f, got[f], w)
		}
	}
	if _, ok := got["Extra"]; ok {
		t.Errorf("Extra (json:\"-\") got an accessor")
	}
	// The declared response headers: GetX on the headers struct, and
	// GetHeaders302 on the result, neither of them a model.
	var hs []string
	for _, m := range pkg.Headers {
		for _, a := range m.Accessors {
			hs = append(hs, m.Name+"."+a.Field+" "+a.Kind+" "+a.Result)
		}
	}
	if got, want := strings.Join(hs, ", "), "ListCustomersResult302Headers.Location deref string, ListCustomersResult302Headers.Count deref int, ListCustomersResult.Headers302 pointer *ListCustomersResult302Headers"; got != want {
		t.Errorf("header accessors %q, want %q", got, want)
	}
	if strings.Join(pkg.Imports, ",") != `"time"` {
		t.Errorf("imports %q, want only time (nullable is not in any result type)", pkg.Imports)
	}
}

// The accessor's name taken by a method (in any file of the package) or by
// a field fails, naming the type, the accessor and what holds the name.
func TestLoadRefusesANameClash(t *testing.T) {
	for name, extra := range map[string]string{
		"method": "package api\n\nfunc (c Customer) GetEmail() string { return \"\" }\n",
		"field":  "package api\n\ntype Other struct {\n\tEmail *string `json:\"email\"`\n\tGetEmail string `json:\"getEmail\"`\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := writePackage(t, map[string]string{"api.gen.go": sampleSource, "extra.go": extra})
			if name == "field" { // the field clash is inside the models file
				dir = writePackage(t, map[string]string{"api.gen.go": sampleSource + extra[len("package api\n"):]})
			}
			_, err := Load(dir, "api.gen.go", "accessors.gen.go")
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range []string{"GetEmail", name} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

// The written accessors compile with the package and behave: nil-safe, and
// chaining through a struct field.
func TestRenderedAccessorsCompileAndWork(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := writePackage(t, map[string]string{
		"go.mod":     "module x\n\ngo 1.26\n\nrequire github.com/kelviq/kelviq-go v0.0.0\n\nreplace github.com/kelviq/kelviq-go => " + root + "\n",
		"api.gen.go": sampleSource,
		"api_test.go": `package api

import "testing"

func TestChain(t *testing.T) {
	var c *Customer
	if c.GetAddress().GetCity() != "" || c.GetEmail() != "" || c.GetBilling() != nil {
		t.Fatal("nil receiver")
	}
	city := "Berlin"
	c = &Customer{Address: &Address{City: &city}}
	c.Name.Set("Ada")
	if c.GetAddress().GetCity() != "Berlin" || c.GetName() != "Ada" || c.GetID() != "" {
		t.Fatal("set values")
	}
	var res *ListCustomersResult
	if res.GetHeaders302().GetLocation() != "" || (&ListCustomersResult{}).GetHeaders302() != nil {
		t.Fatal("nil headers")
	}
	loc := "https://files.example/a.pdf"
	res = &ListCustomersResult{Headers302: &ListCustomersResult302Headers{Location: &loc}}
	if res.GetHeaders302().GetLocation() != loc || res.GetHeaders302().GetCount() != 0 {
		t.Fatal("set headers")
	}
}
`,
	})
	if err := run(dir, "api.gen.go", "accessors.gen.go", "", ""); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
