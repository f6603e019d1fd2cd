// Command genoperations writes api/operations.gen.go, the operation table
// that package kelviq authenticates and routes every request by.
//
// It reads the vendored spec with kin-openapi and records, for every
// operation: its operationId, the Go method name oapi-codegen gives it,
// method, path template, the security schemes its `security` names (the
// operation's own, else the top-level one) and its servers per environment
// (operation level, else path level, else top level), and whether it is a
// page-numbered list. Nothing per operation is written by hand anywhere in
// the project: when the spec changes, `go generate ./...` rewrites the table.
//
// Usage:
//
//	go run ./internal/cmd/genoperations -spec openapi.json -out api/operations.gen.go
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	specPath := flag.String("spec", "openapi.json", "the OpenAPI spec to read")
	out := flag.String("out", "api/operations.gen.go", "the Go file to write")
	pkg := flag.String("package", "api", "the package name of the written file")
	flag.Parse()

	if err := run(*specPath, *out, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "genoperations:", err)
		os.Exit(1)
	}
}

func run(specPath, out, pkg string) error {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	table, err := Build(data)
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	src, err := Render(table, pkg)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
