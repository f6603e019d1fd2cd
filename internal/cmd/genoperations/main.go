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
// items. With -doc, -ids and -index it writes the operation index: the
// package doc of api (api/doc.go), the Op<GoName> operationId constants
// (api/operationids.gen.go) and API.md. With -guards it also writes
// kelviq/pathparams.gen.go: the generated client's methods that take a
// string path parameter, checking it before the request is built
// (RenderGuards says why), and with -calls kelviq/calls.gen.go: the
// XxxWithResponse methods on kelviq.Client, which name the operation when a
// success body does not decode. Nothing per operation is written by hand
// anywhere in the project: when the spec changes, `go generate ./...` rewrites the table.
//
// Usage:
//
//	go run ./internal/cmd/genoperations -spec openapi.json -out api/operations.gen.go -iterators kelviq/pagination.gen.go \
//		-doc api/doc.go -ids api/operationids.gen.go -index API.md \
//		-guards kelviq/pathparams.gen.go -calls kelviq/calls.gen.go
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
	var idx indexFiles
	flag.StringVar(&idx.Doc, "doc", "", "also write the package doc (the operation index) to this Go file")
	flag.StringVar(&idx.IDs, "ids", "", "also write the Op<GoName> operationId constants to this Go file")
	flag.StringVar(&idx.Markdown, "index", "", "also write the operation index as Markdown to this file (API.md)")
	guards := flag.String("guards", "", "also write the path parameter checks of package kelviq (package -iterators-package) to this Go file")
	calls := flag.String("calls", "", "also write the XxxWithResponse methods of kelviq.Client (package -iterators-package) to this Go file")
	client := flag.String("client", "api/api.gen.go", "the client oapi-codegen generated, read for -guards and -calls")
	flag.Parse()

	if err := run(*specPath, *out, *pkg, *iters, *itersPkg, *apiImport, idx); err != nil {
		fmt.Fprintln(os.Stderr, "genoperations:", err)
		os.Exit(1)
	}
	if err := runClientFiles(*specPath, *client, *guards, *calls, *itersPkg, *apiImport); err != nil {
		fmt.Fprintln(os.Stderr, "genoperations:", err)
		os.Exit(1)
	}
}

// indexFiles are the optional outputs of the operation index.
type indexFiles struct {
	Doc, IDs, Markdown string
}

// loadTable reads the spec and builds its operation table; it returns the
// spec's bytes too.
func loadTable(specPath string) (*Table, []byte, error) {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return nil, nil, err
	}
	table, err := Build(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", specPath, err)
	}
	return table, data, nil
}

func run(specPath, out, pkg, iters, itersPkg, apiImport string, idx indexFiles) error {
	table, data, err := loadTable(specPath)
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
	if err := writeIndex(table, data, specPath, pkg, idx); err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

func writeIndex(table *Table, spec []byte, specPath, pkg string, idx indexFiles) error {
	if idx.IDs != "" {
		src, err := RenderIDs(table, pkg)
		if err != nil {
			return err
		}
		if err := os.WriteFile(idx.IDs, src, 0o644); err != nil {
			return err
		}
	}
	if idx.Doc == "" && idx.Markdown == "" {
		return nil
	}
	groups, err := Index(table, spec, specPath)
	if err != nil {
		return fmt.Errorf("operation index: %w", err)
	}
	for _, out := range []struct {
		path   string
		render func() ([]byte, error)
	}{
		{idx.Doc, func() ([]byte, error) { return RenderDoc(table, groups, pkg) }},
		{idx.Markdown, func() ([]byte, error) { return RenderMarkdown(table, groups) }},
	} {
		if out.path == "" {
			continue
		}
		src, err := out.render()
		if err != nil {
			return err
		}
		if err := os.WriteFile(out.path, src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runClientFiles writes the files of package kelviq that are read off the
// generated client: the path parameter checks and the XxxWithResponse
// methods.
func runClientFiles(specPath, client, guards, calls, pkg, apiImport string) error {
	if guards == "" && calls == "" {
		return nil
	}
	table, _, err := loadTable(specPath)
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
