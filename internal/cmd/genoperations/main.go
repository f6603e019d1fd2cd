// Command genoperations writes api/operations.gen.go, the operation table
// that package kelviq authenticates and routes every request by.
//
// It reads the vendored spec with kin-openapi and records, for every
// operation: its operationId, the Go method name oapi-codegen gives it,
// method, path template, the security schemes its `security` names (the
// operation's own, else the top-level one) and its servers per environment
// (operation level, else path level, else top level), whether it is a
// page-numbered list, and the statuses it declares as success. With
// -iterators it also writes kelviq/pagination.gen.go: one iterator method on
// kelviq.Client per page-numbered list, yielding the Go type of the list's
// items. With -guards it also writes kelviq/pathparams.gen.go: the
// generated client's methods that take a string path parameter, checking
// it before the request is built (RenderGuards says why), and with -calls
// kelviq/calls.gen.go: the XxxWithResponse methods on kelviq.Client, which
// name the operation when a success body does not decode. Nothing per operation is written by hand anywhere in
// the project: when the spec changes, `go generate ./...` rewrites the table.
//
// Usage:
//
//	go run ./internal/cmd/genoperations -spec openapi.json -out api/operations.gen.go -iterators kelviq/pagination.gen.go -guards kelviq/pathparams.gen.go -calls kelviq/calls.gen.go
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
	iters := flag.String("iterators", "", "also write the page iterators of package kelviq to this Go file")
	itersPkg := flag.String("iterators-package", "kelviq", "the package name of the iterators file")
	apiImport := flag.String("api-import", "github.com/kelviq/kelviq-go/api", "the import path of the package the table is written to")
	guards := flag.String("guards", "", "also write the path parameter checks of package kelviq (package -iterators-package) to this Go file")
	calls := flag.String("calls", "", "also write the XxxWithResponse methods of kelviq.Client (package -iterators-package) to this Go file")
	client := flag.String("client", "api/api.gen.go", "the client oapi-codegen generated, read for -guards and -calls")
	flag.Parse()

	if err := run(*specPath, *out, *pkg, *iters, *itersPkg, *apiImport); err != nil {
		fmt.Fprintln(os.Stderr, "genoperations:", err)
		os.Exit(1)
	}
	if err := runClientFiles(*specPath, *client, *guards, *calls, *itersPkg, *apiImport); err != nil {
		fmt.Fprintln(os.Stderr, "genoperations:", err)
		os.Exit(1)
	}
}

// loadTable reads the spec and builds its operation table.
func loadTable(specPath string) (*Table, error) {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return nil, err
	}
	table, err := Build(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", specPath, err)
	}
	return table, nil
}

func run(specPath, out, pkg, iters, itersPkg, apiImport string) error {
	table, err := loadTable(specPath)
	if err != nil {
		return err
	}
	src, err := Render(table, pkg)
	if err != nil {
		return err
	}
	if iters != "" {
		isrc, err := RenderIterators(table, itersPkg, apiImport)
		if err != nil {
			return err
		}
		if err := os.WriteFile(iters, isrc, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(out, src, 0o644)
}

// runClientFiles writes the files of package kelviq that are read off the
// generated client: the path parameter checks and the XxxWithResponse
// methods.
func runClientFiles(specPath, client, guards, calls, pkg, apiImport string) error {
	if guards == "" && calls == "" {
		return nil
	}
	table, err := loadTable(specPath)
	if err != nil {
		return err
	}
	clientSrc, err := os.ReadFile(client)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		out    string
		render func(*Table, []byte, string, string) ([]byte, error)
	}{{guards, RenderGuards}, {calls, RenderWithResponse}} {
		if f.out == "" {
			continue
		}
		src, err := f.render(table, clientSrc, pkg, apiImport)
		if err != nil {
			return fmt.Errorf("%s: %w", client, err)
		}
		if err := os.WriteFile(f.out, src, 0o644); err != nil {
			return err
		}
	}
	return nil
}
