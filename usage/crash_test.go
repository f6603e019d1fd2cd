package usage_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

const crashPairs = 8

// buildCrashChild builds testdata/crashchild into a temporary directory
// (with -race when the test runs with it, to reuse the build cache).
func buildCrashChild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashchild")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, "./testdata/crashchild")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childRun is what a killed child said it did, per pair.
type childRun struct {
	tried, acked [crashPairs]int // highest n tried / acknowledged
}

// runAndKill starts the child reporting to url, SIGKILLs it at a random
// moment after its first acknowledgement, and returns what it printed.
func runAndKill(t *testing.T, bin, path, url string) childRun {
	t.Helper()
	cmd := exec.Command(bin, "-path", path, "-url", url, "-pairs", strconv.Itoa(crashPairs))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var run childRun
	firstAck := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var what string
			var p, n int
			if _, err := fmt.Sscanf(sc.Text(), "%s %d %d", &what, &p, &n); err != nil || p < 0 || p >= crashPairs {
				done <- fmt.Errorf("bad line %q", sc.Text())
				return
			}
			switch what {
			case "try":
				run.tried[p] = n
			case "ack":
				if n != run.acked[p]+1 || n != run.tried[p] {
					done <- fmt.Errorf("ack %d %d out of order", p, n)
					return
				}
				run.acked[p] = n
				once.Do(func() { close(firstAck) })
			}
		}
		done <- sc.Err()
	}()
	select {
	case <-firstAck:
	case err := <-done:
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child ended before its first report: %v; stderr: %s", err, stderr.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no report acknowledged in 60 s; stderr: %s", stderr.String())
	}
	time.Sleep(time.Duration(rand.IntN(250)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if stderr.Len() > 0 {
		t.Fatalf("the child failed: %s", stderr.String())
	}
	return run
}

// deliver starts a fresh Reporter on the killed child's file and sends
// everything it finds to url.
func deliver(t *testing.T, path, url string) {
	t.Helper()
	r, err := usage.NewReporter(newClient(t, url), usage.WithPath(path))
	if err != nil {
		t.Fatalf("reopening after the kill: %v", err)
	}
	flushAll(t, r)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func tri(n int) int { return n * (n + 1) / 2 }

func crashKills(t *testing.T) int {
	if testing.Short() {
		return 3
	}
	return 20
}

// Kill -9 while kelviq is unreachable: after a fresh start delivers the
// file, kelviq's sum for every pair is exactly the acknowledged sum, plus
// at most the one report whose Report had not returned at the kill (its
// caller could not know whether it was stored).
func TestCrashWhileKelviqIsUnreachable(t *testing.T) {
	bin := buildCrashChild(t)
	for i := range crashKills(t) {
		path := filepath.Join(t.TempDir(), "outbox.db")
		run := runAndKill(t, bin, path, "http://"+deadAddr(t))
		fake := newFakeAPI(t, "")
		deliver(t, path, fake.srv.URL)
		for p := range crashPairs {
			got := fake.sum(pair{"crash", "f" + strconv.Itoa(p)})
			acked := tri(run.acked[p])
			pending := 0
			if run.tried[p] > run.acked[p] {
				pending = run.tried[p]
			}
			if got != acked && got != acked+pending {
				t.Errorf("kill %d, pair %d: kelviq's sum %d, acknowledged %d (n ≤ %d), in progress %d",
					i, p, got, acked, run.acked[p], pending)
			}
		}
	}
}

// Kill -9 while kelviq is up: no acknowledged report is lost, and anything
// counted twice is the one request of the pair that was in flight at the
// kill (the child's last request for it).
func TestCrashWhileKelviqIsUp(t *testing.T) {
	bin := buildCrashChild(t)
	doubled := 0
	for i := range crashKills(t) {
		path := filepath.Join(t.TempDir(), "outbox.db")
		fake := newFakeAPI(t, "")
		run := runAndKill(t, bin, path, fake.srv.URL)
		deliver(t, path, fake.srv.URL)
		// Read after the delivery: a request the child sent whole just
		// before the kill may still have been in the handler at the kill.
		fromChild := fake.received()
		for p := range crashPairs {
			pr := pair{"crash", "f" + strconv.Itoa(p)}
			got := fake.sum(pr)
			acked := tri(run.acked[p])
			pending := 0
			if run.tried[p] > run.acked[p] {
				pending = run.tried[p]
			}
			last := 0 // the value of the child's last request for the pair
			for _, g := range fromChild {
				if g.pair == pr && strings.Contains(g.userAgent, "crashchild") {
					last = g.value
				}
			}
			excess := got - acked
			switch excess {
			case 0, pending:
			case last, last + pending:
				if last > 0 {
					doubled++
					break
				}
				fallthrough
			default:
				t.Errorf("kill %d, pair %d: kelviq's sum %d, acknowledged %d (n ≤ %d), in progress %d, last request %d",
					i, p, got, acked, run.acked[p], pending, last)
			}
		}
	}
	t.Logf("%d kills; %d pairs had their in-flight request counted twice", crashKills(t), doubled)
}
