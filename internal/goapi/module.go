package goapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the module whose API is measured.
const ModulePath = "github.com/kelviq/kelviq-go"

// Packages are the packages whose exported API is compared, relative to the
// module root.
var Packages = []string{"api", "kelviq"}

// FindRoot returns the root of this module's source tree: dir or the first
// parent holding a go.mod of ModulePath. Regenerating needs the committed
// config, overlay, templates and generator, so it fails outside the tree.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && modulePath(data) == ModulePath {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside the %s source tree (no go.mod of that module above it): the Go API diff regenerates the client with the committed generator config", abs, ModulePath)
		}
	}
}

func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// goCmd runs the go command in dir, outside any workspace (the caller's
// GOPROXY and GOFLAGS apply: a CI runner with a cold module cache downloads), and
// returns its stdout; an error carries its stderr.
func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return run(ctx, dir, "go", args...)
}

// buildEnv is the environment of every go command and generator run: the
// caller's, outside any workspace, and without cgo — the regenerated code
// comes from a spec read off the network, and nothing in api or kelviq
// needs C, so no #cgo directive can get a say in the build.
func buildEnv() []string {
	return append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
}

func run(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = buildEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return nil, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, clip(msg, 4000))
	}
	return stdout.Bytes(), nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n…"
}

// localPackage is a package of this module that api or kelviq import.
type localPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	EmbedFiles []string
}

// localDeps lists the packages of this module that Packages need (them
// included), as `go list -deps` sees them in the source tree.
func localDeps(ctx context.Context, root string) ([]localPackage, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Dir,GoFiles,EmbedFiles,Module"}
	for _, p := range Packages {
		args = append(args, "./"+p)
	}
	out, err := goCmd(ctx, root, args...)
	if err != nil {
		return nil, err
	}
	var pkgs []localPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			localPackage
			Module *struct{ Main bool }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		if p.Module != nil && p.Module.Main {
			pkgs = append(pkgs, p.localPackage)
		}
	}
	return pkgs, nil
}

// newTempModule writes a copy of the module's go.mod and go.sum and of the
// non-test sources of every local package api and kelviq need into a new
// directory under parent, and returns it. The generated files are then
// overwritten by the regeneration.
func newTempModule(ctx context.Context, root, parent string) (string, error) {
	deps, err := localDeps(ctx, root)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(parent, "regen-")
	if err != nil {
		return "", err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(root, f), filepath.Join(dir, f)); err != nil {
			return "", err
		}
	}
	for _, p := range deps {
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return "", fmt.Errorf("package %s at %s is outside the module root %s", p.ImportPath, p.Dir, root)
		}
		if err := os.MkdirAll(filepath.Join(dir, rel), 0o755); err != nil {
			return "", err
		}
		for _, f := range append(append([]string{}, p.GoFiles...), p.EmbedFiles...) {
			to := filepath.Join(dir, rel, f)
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return "", err
			}
			if err := copyFile(filepath.Join(p.Dir, f), to); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
