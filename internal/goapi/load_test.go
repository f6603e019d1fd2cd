package goapi

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeModule writes files (path → source) into a new module of ModulePath.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module " + ModulePath + "\n\ngo 1.26\n"
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Generated code is only type-checked, without cgo: a spec can make
// oapi-codegen import "C" (x-go-type-import), and with cgo on that file
// would build with the system C compiler. Off, the file is left out, the
// package does not compile, and the error says why before the compiler's
// "undefined" lines. Nothing of the code runs: an init that would write a
// file writes nothing.
func TestLoadTypeChecksWithoutCgoAndRunsNothing(t *testing.T) {
	t.Setenv("CGO_ENABLED", "1") // the caller's setting does not matter
	marker := filepath.Join(t.TempDir(), "ran")
	dir := writeModule(t, map[string]string{
		"api/api.gen.go": "package api\n\nimport \"C\"\n\ntype Size = C.int\n\ntype ClientWithResponses struct{}\n",
		"api/other.go": "package api\n\nimport \"os\"\n\nfunc init() { _ = os.WriteFile(" + strconv.Quote(marker) + ", nil, 0o644) }\n\n" +
			"var _ *ClientWithResponses\n",
		"kelviq/kelviq.go": "package kelviq\n\nimport \"" + ModulePath + "/api\"\n\ntype Client struct{ *api.ClientWithResponses }\n",
	})
	_, err := load(context.Background(), dir, "the hostile build")
	if err == nil {
		t.Fatal("a package whose api.gen.go imports \"C\" loaded: cgo was on")
	}
	msg := err.Error()
	if !strings.Contains(msg, "the hostile build does not compile") ||
		!strings.Contains(msg, `api.gen.go is left out of the build: it imports "C", and cgo is off`) {
		t.Errorf("error %q: want the cgo file named", msg)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the generated code ran (marker: %v)", err)
	}

	// Without "C" the same module loads, and still nothing runs.
	dir = writeModule(t, map[string]string{
		"api/api.gen.go":   "package api\n\ntype ClientWithResponses struct{}\n",
		"api/other.go":     "package api\n\nimport \"os\"\n\nfunc init() { _ = os.WriteFile(" + strconv.Quote(marker) + ", nil, 0o644) }\n",
		"kelviq/kelviq.go": "package kelviq\n\nimport \"" + ModulePath + "/api\"\n\ntype Client struct{ *api.ClientWithResponses }\n",
	})
	api, err := load(context.Background(), dir, "the clean build")
	if err != nil {
		t.Fatal(err)
	}
	if api.Packages["api"].Scope().Lookup("ClientWithResponses") == nil {
		t.Error("api.ClientWithResponses not found")
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the generated code ran (marker: %v)", err)
	}
}
