// Command genaccessors writes api/accessors.gen.go: nil-safe accessors for
// the model types oapi-codegen generated in package api.
//
// Almost every response field is a pointer or a nullable.Nullable[T]
// because the spec marks almost nothing required. For every field X of every
// model type (a struct generated from a schema; not the <Op>Params and
// <Op>Result wrappers) it writes GetX() on the pointer receiver, returning:
//
//   - for a *T or Nullable[T] field: the value, or T's zero value when the
//     field is absent or null or the receiver is nil (a union too: its
//     As<Variant> methods have value receivers, so the zero union answers
//     them with an error where a nil pointer would panic);
//   - for a field holding a model type S (a struct of package api with json
//     fields; *S, Nullable[S] or S): a *S, nil when absent, so calls chain
//     without a nil check (res.JSON201.GetBillingAddress().GetCity());
//   - for any other field (slice, map, interface, union, a required scalar):
//     the field, or its zero value when the receiver is nil, so that a chain
//     never has to stop at a nil pointer (res.JSON200.GetResults()).
//
// For the declared response headers, which the parser puts in
// <Op>Result.HeadersNNN (a pointer to a struct of one pointer per header,
// nil for another status or an absent header), it writes GetHeadersNNN on
// the result and GetX on the headers struct, with the same rules:
// res.GetHeaders302().GetLocation() is "" when the header or the result is
// absent, with no nil check. (Not res.Location(): it would not say which
// status the header belongs to, and could collide with the results' own
// methods, StatusCode and ContentType.)
//
// The types are read from the generated source (go/ast), not from a list:
// when the spec changes, `go generate ./...` rewrites the accessors. An
// accessor whose name is already a method or field of its type fails
// generation, naming both.
//
// With -models-test it also writes a test file listing every model type, for
// the tests of package api that walk them by reflection.
//
// Usage:
//
//	go run ./internal/cmd/genaccessors -dir api -models api.gen.go -out accessors.gen.go -models-test models_gen_test.go
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "api", "the directory of the generated package")
	models := flag.String("models", "api.gen.go", "the file of -dir holding oapi-codegen's model types")
	out := flag.String("out", "accessors.gen.go", "the file of -dir to write the accessors to")
	list := flag.String("models-test", "", "also write the list of model types to this test file of -dir")
	importPath := flag.String("import", "github.com/kelviq/kelviq-go/api", "the import path of the package, for -models-test")
	flag.Parse()

	if err := run(*dir, *models, *out, *list, *importPath); err != nil {
		fmt.Fprintln(os.Stderr, "genaccessors:", err)
		os.Exit(1)
	}
}

func run(dir, models, out, list, importPath string) error {
	pkg, err := Load(dir, models, out)
	if err != nil {
		return err
	}
	src, err := Render(pkg)
	if err != nil {
		return err
	}
	if list != "" {
		lsrc, err := RenderModelList(pkg, importPath)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, list), lsrc, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, out), src, 0o644)
}
