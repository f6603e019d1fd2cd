//go:build linux

package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv switches the test binary, re-executed by
// TestServerDiesWithTestBinary, into the child that starts a server.
const childEnv = "REDISTEST_PDEATHSIG_CHILD"

// A redis-server must not outlive its test binary, even one killed with
// SIGKILL (no cleanup runs then): a child test binary starts a server and
// prints its pid, the child is SIGKILLed, and the server must be gone
// within a few seconds (the parent-death signal of dieWithParent).
func TestServerDiesWithTestBinary(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		Start(t) // skips, or fails under CI=true, with the install hint
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPdeathsigChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	pid, addr := readChildServer(t, stdout)
	if !alive(pid) {
		t.Fatalf("redis-server %d is not running before the kill", pid)
	}
	if got, err := serverPID(addr); err != nil || got != pid {
		t.Fatalf("the server on %s answers pid %d, %v; the child said %d", addr, got, err, pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			// Do not leave it behind for the next test either.
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("redis-server %d still runs 5s after its test binary was SIGKILLed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := serverPID(addr); err == nil {
		t.Errorf("something still answers on %s after the server died", addr)
	}
}

// readChildServer reads the child's "redistest-child pid=N addr=H:P" line.
func readChildServer(t *testing.T, stdout interface{ Read([]byte) (int, error) }) (int, string) {
	t.Helper()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "redistest-child ") {
				lines <- sc.Text()
				break
			}
		}
		close(lines)
		for sc.Scan() { // keep draining: the child must not block on a full pipe
		}
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatal("the child ended without starting a server")
		}
		var pid int
		var addr string
		if _, err := fmt.Sscanf(line, "redistest-child pid=%d addr=%s", &pid, &addr); err != nil {
			t.Fatalf("child line %q: %v", line, err)
		}
		return pid, addr
	case <-time.After(30 * time.Second):
		t.Fatal("the child did not start a server within 30s")
	}
	return 0, ""
}

// alive reports whether pid is a running process: it exists and is not a
// zombie (a killed server whose exit nobody has collected yet is dead).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: comm may hold spaces and parentheses.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// TestPdeathsigChild is the child of TestServerDiesWithTestBinary: it
// starts a server, says which, and waits to be killed.
func TestPdeathsigChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("run by TestServerDiesWithTestBinary as its child")
	}
	s := Start(t)
	s.mu.Lock()
	pid := s.cmd.Process.Pid
	s.mu.Unlock()
	fmt.Printf("redistest-child pid=%d addr=%s\n", pid, s.Addr)
	time.Sleep(time.Minute) // the parent kills us long before
	t.Error("the child was not killed within a minute")
}
