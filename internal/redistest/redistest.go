// Package redistest runs a real Redis server for tests: Debian's redis-server
// (apt-get install redis-server), started on a free loopback port with its
// working directory in a temporary directory, and stopped when the test ends.
// Start gives a server with no persistence; StartPersistent one that writes
// every command to its append-only file before answering (appendonly yes,
// appendfsync always), so that Kill and Restart lose nothing acknowledged.
//
// On Linux the server is killed when the test binary dies, even by SIGKILL
// (the parent-death signal), so that no redis-server outlives its test.
//
// Without redis-server on PATH the test is skipped with a message saying how
// to install it, except under CI=true, where it fails: CI must run the Redis
// tests (.ci/run installs the package).
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one redis-server process.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string

	bin        string
	dir        string
	persistent bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

// Start starts a redis-server for tb and stops it in tb's cleanup. It skips
// tb (fails it with CI=true) when redis-server is not installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, false)
}

// StartPersistent is Start with persistence: appendonly yes and appendfsync
// always, so that a write Redis acknowledged is on disk, and Restart brings
// back the data the killed server held (same directory).
func StartPersistent(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, true)
}

func start(tb testing.TB, persistent bool) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server not found on PATH; install it with: sudo apt-get install -y redis-server"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg + " (CI=true: the Redis tests must run)")
		}
		tb.Skip(msg)
	}
	s := &Server{bin: bin, dir: tb.TempDir(), persistent: persistent}
	tb.Cleanup(s.Kill)
	var lastErr error
	// A free port can be taken by another process between our probe and
	// redis-server's bind: try a few.
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	tb.Fatalf("redistest: redis-server did not start: %v", lastErr)
	return nil
}

// Kill stops the server at once with SIGKILL, as a crash would, and waits
// for the process to end. It does nothing when the server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused process ends only once continued
	<-done
}

// Pause stops the server with SIGSTOP: it keeps its connections and answers
// nothing, as a hung Redis would, until Resume. It does nothing when the
// server is not running. Kill and the test's cleanup resume it first.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a server stopped by Pause (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Restart starts the server again on the same address after Kill: empty,
// or, for StartPersistent, with what its append-only file holds.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Kill()
	var err error
	for range 50 { // the port can linger a moment after the kill
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("redistest: redis-server did not restart on %s: %v", s.Addr, err)
}

func (s *Server) start() error {
	host, port, _ := net.SplitHostPort(s.Addr)
	persist := []string{"--save", "", "--appendonly", "no"} // nothing on disk
	if s.persistent {
		persist = []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"}
	}
	args := append([]string{"--bind", host, "--port", port, "--dir", s.dir}, persist...)
	args = append(args, "--daemonize", "no", "--logfile", "", "--loglevel", "warning")
	cmd := exec.Command(s.bin, args...)
	cmd.SysProcAttr = dieWithParent()
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited: %s", bytes.TrimSpace(out.Bytes()))
		default:
		}
		// The server that answers must be ours: another process may hold
		// the port, and then ours exits while that one answers.
		if pid, err := serverPID(s.Addr); err == nil && pid == cmd.Process.Pid {
			s.mu.Lock()
			s.cmd, s.out, s.done = cmd, out, done
			s.mu.Unlock()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("redis-server did not answer PING on %s within 10s: %s", s.Addr, bytes.TrimSpace(out.Bytes()))
}

// serverPID asks the server at addr for its process id (INFO server).
func serverPID(addr string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n') // $<length> of a bulk string
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
	if err != nil || !strings.HasPrefix(head, "$") {
		return 0, fmt.Errorf("INFO answered %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("INFO server has no process_id")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
