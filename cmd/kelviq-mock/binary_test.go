package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The kelviq-mock binary, built once for the tests that run it.
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds kelviq-mock (once per test run) and returns its path.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("no go command")
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "kelviq-mock-test"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "kelviq-mock")
		out, err := exec.Command(gobin, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			tb.Logf("go build:\n%s", out)
		}
	})
	if binErr != nil {
		tb.Fatalf("building kelviq-mock: %v", binErr)
	}
	return binPath
}

// mockProcess is a running kelviq-mock binary.
type mockProcess struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	stdout *bufio.Reader
	stderr *syncBuffer
}

// startBinary runs the binary on a free loopback port with args, and stops
// it (SIGTERM, then kill) when the test ends.
func startBinary(tb testing.TB, args ...string) *mockProcess {
	tb.Helper()
	bin := buildBinary(tb)
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p := &mockProcess{cmd: cmd, stdout: bufio.NewReader(stdout), stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		io.Copy(io.Discard, p.stdout)
		if err := cmd.Wait(); err != nil {
			cmd.Process.Kill()
		}
	})
	first, err := p.stdout.ReadString('\n')
	if err != nil {
		tb.Fatalf("reading the first line: %v\n%s", err, p.stderr.String())
	}
	i := strings.Index(first, " at http://")
	if i < 0 {
		tb.Fatalf("first line %q has no URL", first)
	}
	p.base = strings.TrimSpace(first[i+len(" at "):])
	return p
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
