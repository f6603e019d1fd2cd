package kelviqgo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every spec version we have — the vendored one and the two earlier upstream
// versions in testdata/spec — generates with the committed oapi-codegen
// config, overlay and templates, plus our operation table, and compiles.
// Each is generated into a temporary module that uses this repository (for
// package nullable) through a replace directive, so nothing here is touched.
func TestEverySpecVersionGeneratesAndCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and compiles three clients (about a minute)")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	codegen := goOutput(t, root, "go", "tool", "-n", "oapi-codegen")
	genops := filepath.Join(t.TempDir(), "genoperations")
	goOutput(t, root, "go", "build", "-o", genops, "./internal/cmd/genoperations")
	genacc := filepath.Join(t.TempDir(), "genaccessors")
	goOutput(t, root, "go", "build", "-o", genacc, "./internal/cmd/genaccessors")

	config, err := os.ReadFile(filepath.Join(root, "api", "oapi-codegen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}

	specs := []string{"openapi.json", "testdata/spec/2026-06-20-123df70.json", "testdata/spec/2026-07-27-418f24d.json"}
	for _, spec := range specs {
		t.Run(filepath.Base(spec), func(t *testing.T) {
			dir := t.TempDir()
			mod := regexp.MustCompile(`(?m)^module .*$`).ReplaceAllString(string(gomod), "module regen")
			mod = regexp.MustCompile(`(?m)^tool .*$`).ReplaceAllString(mod, "")
			mod += "\nrequire github.com/kelviq/kelviq-go v0.0.0\n\nreplace github.com/kelviq/kelviq-go => " + root + "\n"
			write(t, filepath.Join(dir, "go.mod"), mod)
			write(t, filepath.Join(dir, "go.sum"), string(gosum))

			// The committed config, with its paths made absolute (they are
			// relative to the module root, where gen.go runs).
			cfg := string(config)
			cfg = regexp.MustCompile(`(?m)^output: .*$`).ReplaceAllString(cfg, "output: "+filepath.Join(dir, "api", "api.gen.go"))
			cfg = strings.ReplaceAll(cfg, " api/", " "+filepath.Join(root, "api")+"/")
			if err := os.MkdirAll(filepath.Join(dir, "api"), 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "oapi-codegen.yaml"), cfg)

			specPath := filepath.Join(root, spec)
			goOutput(t, root, codegen, "-config", filepath.Join(dir, "oapi-codegen.yaml"), specPath)
			goOutput(t, root, genops, "-spec", specPath, "-out", filepath.Join(dir, "api", "operations.gen.go"))
			goOutput(t, root, genacc, "-dir", filepath.Join(dir, "api"))
			cmd := exec.Command("go", "build", "./...")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("the client generated from %s does not compile: %v\n%s", spec, err, out)
			}
		})
	}
}

func goOutput(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
