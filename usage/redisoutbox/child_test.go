//go:build linux

package redisoutbox_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

// The fleet tests' child processes are this test binary, started again
// with FLEET_CHILD=1: a Reporter on a Redis outbox that reports numbered
// DELTAs (value n for the n-th report of a pair in this process) from one
// goroutine per pair, printing "try <pair> <n>" before each Report and
// "ack <pair> <n>" after each one that returned nil.
func TestMain(m *testing.M) {
	if os.Getenv("FLEET_CHILD") == "1" {
		fleetChild()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childEnv is what a child is told.
type childEnv struct {
	redisAddr, prefix, apiURL, userAgent string
	pairs                                int
	lease                                time.Duration
	count                                int           // reports per pair, then "done"; 0: until killed
	every                                time.Duration // between two reports of a pair
}

func (e childEnv) environ() []string {
	return append(os.Environ(), "FLEET_CHILD=1",
		"FLEET_REDIS="+e.redisAddr, "FLEET_PREFIX="+e.prefix, "FLEET_API="+e.apiURL, "FLEET_UA="+e.userAgent,
		"FLEET_PAIRS="+strconv.Itoa(e.pairs), "FLEET_LEASE="+e.lease.String(),
		"FLEET_COUNT="+strconv.Itoa(e.count), "FLEET_EVERY="+e.every.String())
}

func fleetChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "fleet child:", err)
		os.Exit(3)
	}
	pairs, _ := strconv.Atoi(os.Getenv("FLEET_PAIRS"))
	count, _ := strconv.Atoi(os.Getenv("FLEET_COUNT"))
	lease, err := time.ParseDuration(os.Getenv("FLEET_LEASE"))
	if err != nil {
		fail(err)
	}
	every, err := time.ParseDuration(os.Getenv("FLEET_EVERY"))
	if err != nil {
		fail(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("FLEET_REDIS"), MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	o, err := redisoutbox.New(rdb, os.Getenv("FLEET_PREFIX"), redisoutbox.WithLeaseTTL(lease), redisoutbox.WithPollInterval(100*time.Millisecond))
	if err != nil {
		fail(err)
	}
	client, err := kelviq.NewClient(kelviq.WithBaseURL(os.Getenv("FLEET_API")), kelviq.WithServerKey(goodKey),
		kelviq.WithRetries(0), kelviq.WithUserAgent(os.Getenv("FLEET_UA")))
	if err != nil {
		fail(err)
	}
	r, err := usage.NewReporter(client, usage.WithOutbox(o))
	if err != nil {
		fail(err)
	}
	var out sync.Mutex
	say := func(format string, a ...any) {
		out.Lock()
		fmt.Fprintf(os.Stdout, format, a...)
		out.Unlock()
	}
	var wg sync.WaitGroup
	for p := range pairs {
		wg.Go(func() {
			for n := 1; count == 0 || n <= count; n++ {
				say("try %d %d\n", p, n)
				if err := r.Report(context.Background(), "fleet", "f"+strconv.Itoa(p), n, api.ReportUsageRequestBehaviourDELTA); err != nil {
					fail(err)
				}
				say("ack %d %d\n", p, n)
				time.Sleep(every)
			}
		})
	}
	wg.Wait()
	say("done 0 0\n")
	select {}
}

// child is a running fleet child, as the parent sees it.
type child struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	ack    chan struct{} // closed at the first acknowledgement
	done   chan struct{} // closed when "done" was printed
	ended  chan error    // the output reader's end

	mu           sync.Mutex
	tried, acked []int // per pair: highest n tried / acknowledged
}

func startChild(t *testing.T, e childEnv) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), stderr: &strings.Builder{},
		ack: make(chan struct{}), done: make(chan struct{}), ended: make(chan error, 1),
		tried: make([]int, e.pairs), acked: make([]int, e.pairs)}
	c.cmd.Env = e.environ()
	c.cmd.Stderr = c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.cmd.Process.Kill(); _ = c.cmd.Wait() })
	go func() {
		var ackOnce, doneOnce sync.Once
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var what string
			var p, n int
			if _, err := fmt.Sscanf(sc.Text(), "%s %d %d", &what, &p, &n); err != nil || p < 0 || p >= e.pairs {
				c.ended <- fmt.Errorf("bad line %q", sc.Text())
				return
			}
			c.mu.Lock()
			switch what {
			case "try":
				c.tried[p] = n
			case "ack":
				if n != c.acked[p]+1 || n != c.tried[p] {
					c.mu.Unlock()
					c.ended <- fmt.Errorf("ack %d %d out of order", p, n)
					return
				}
				c.acked[p] = n
				ackOnce.Do(func() { close(c.ack) })
			case "done":
				doneOnce.Do(func() { close(c.done) })
			}
			c.mu.Unlock()
		}
		c.ended <- sc.Err()
	}()
	return c
}

// waitAck waits for the child's first acknowledged report.
func (c *child) waitAck(t *testing.T) {
	t.Helper()
	select {
	case <-c.ack:
	case err := <-c.ended:
		t.Fatalf("the child ended before its first report: %v; stderr: %s", err, c.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no report acknowledged in 60 s; stderr: %s", c.stderr.String())
	}
}

// kill SIGKILLs the child and returns what it acknowledged and what was
// in progress (the value of a Report that had not returned, 0 if none),
// per pair.
func (c *child) kill(t *testing.T) (acked, pending []int) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-c.ended; err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	if c.stderr.Len() > 0 {
		t.Fatalf("the child failed: %s", c.stderr.String())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pending = make([]int, len(c.tried))
	for p := range c.tried {
		if c.tried[p] > c.acked[p] {
			pending[p] = c.tried[p]
		}
	}
	return append([]int(nil), c.acked...), pending
}
