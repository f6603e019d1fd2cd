// Command genaccessors writes api/accessors.gen.go: nil-safe accessors for
// the model types oapi-codegen generated in package api.
//
// Almost every response field is a pointer or a nullable.Nullable[T]
// because the spec marks almost nothing required. For every such field X of
// every model type it writes GetX() on the pointer receiver: the value, or
// the zero value when the field is absent or null or the receiver is nil. A
// field that holds a struct of package api returns a pointer to it, so calls
// chain (res.JSON200.GetCustomer().GetEmail()) without a nil check. The
// types are read from the generated source (go/ast), not from a list: when
// the spec changes, `go generate ./...` rewrites the accessors. An accessor
// whose name is already a method or field of its type fails generation,
// naming both.
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
