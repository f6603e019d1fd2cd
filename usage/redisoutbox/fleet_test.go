//go:build linux

package redisoutbox_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

const (
	fleetPairs    = 10
	fleetChildren = 3
	fleetLease    = time.Second
)

// fleetKills is how many children the crash tests kill: 20, 3 with -short,
// FLEET_KILLS=n for a longer run.
func fleetKills(t *testing.T) int {
	if s := os.Getenv("FLEET_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("FLEET_KILLS=%q: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 3
	}
	return 20
}

// runRecord is one child run: its user agent, what it acknowledged and
// what was in progress at its kill, per pair.
type runRecord struct {
	ua             string
	acked, pending []int
}

// runFleet runs fleetChildren children on prefix, reporting to apiURL, and
// SIGKILLs one chosen at random and starts it again kills times; at the
// end it kills them all. It returns every run.
func runFleet(t *testing.T, srv *redistest.Server, prefix, apiURL string, kills int) []runRecord {
	t.Helper()
	var runs []runRecord
	seq := 0
	start := func() (*child, string) {
		seq++
		ua := "fleet-run-" + strconv.Itoa(seq)
		c := startChild(t, childEnv{redisAddr: srv.Addr, prefix: prefix, apiURL: apiURL, userAgent: ua,
			pairs: fleetPairs, lease: fleetLease, every: 2 * time.Millisecond})
		return c, ua
	}
	children := make([]*child, fleetChildren)
	uas := make([]string, fleetChildren)
	for i := range children {
		children[i], uas[i] = start()
	}
	for i := range children {
		children[i].waitAck(t)
	}
	stop := func(i int) {
		acked, pending := children[i].kill(t)
		runs = append(runs, runRecord{ua: uas[i], acked: acked, pending: pending})
	}
	for range kills {
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		i := rand.IntN(fleetChildren)
		stop(i)
		children[i], uas[i] = start()
		children[i].waitAck(t)
	}
	for i := range children {
		stop(i)
	}
	return runs
}

// deliverAll starts a Reporter on prefix that sends what is left (after
// the dead children's leases expire, and the backoffs they left in Redis)
// and waits until nothing is queued.
func deliverAll(t *testing.T, srv *redistest.Server, prefix, apiURL string) {
	t.Helper()
	o, err := redisoutbox.New(newClient(t, srv), prefix, redisoutbox.WithLeaseTTL(fleetLease), redisoutbox.WithPollInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r, err := usage.NewReporter(newKelviq(t, apiURL, goodKey, "fleet-deliver"), usage.WithOutbox(o))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	deadline := time.Now().Add(90 * time.Second)
	for {
		s, err := o.Summary(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reports still queued 90 s after the fleet died", s.Queued)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, _ := o.Summary(context.Background()); s.DeadLetters != 0 {
		t.Fatalf("%d reports were dead-lettered", s.DeadLetters)
	}
}

// Kill -9 while kelviq is unreachable: once the fleet is gone and kelviq
// is up, every pair's sum is exactly what the children acknowledged, plus
// at most the reports whose Report had not returned at a kill (their
// caller could not know whether they were stored); nothing is counted
// twice: no request reached kelviq before.
func TestFleetCrashWhileKelviqIsUnreachable(t *testing.T) {
	srv := redistest.StartPersistent(t)
	runs := runFleet(t, srv, "fleet-down:", deadURL(t), fleetKills(t))
	fake := newFakeAPI(t)
	deliverAll(t, srv, "fleet-down:", fake.srv.URL)
	for p := range fleetPairs {
		acked, pending := 0, []int(nil)
		for _, r := range runs {
			acked += tri(r.acked[p])
			pending = append(pending, r.pending[p])
		}
		got := fake.sum(pair{"fleet", "f" + strconv.Itoa(p)})
		if !subsetSum(got-acked, pending) {
			t.Errorf("pair %d: kelviq's sum %d, acknowledged %d, in progress at the kills %v", p, got, acked, pending)
		}
	}
	if o := fake.overlapping(); len(o) > 0 {
		t.Errorf("overlapping requests: %v", o)
	}
	t.Logf("%d kills; every pair's sum is its acknowledged sum (plus reports whose Report had not returned at a kill)", len(runs))
}

// Kill -9 while kelviq is up: no acknowledged report is lost, anything
// counted twice is at most one request per pair per kill (the killed
// run's last request for the pair, which another Reporter sends again
// after its lease expired), and no two requests for one pair overlapped,
// across all processes.
func TestFleetCrashWhileKelviqIsUp(t *testing.T) {
	srv := redistest.StartPersistent(t)
	fake := newFakeAPI(t)
	runs := runFleet(t, srv, "fleet-up:", fake.srv.URL, fleetKills(t))
	deliverAll(t, srv, "fleet-up:", fake.srv.URL)
	reqs := fake.received()
	doubled := 0
	for p := range fleetPairs {
		pr := pair{"fleet", "f" + strconv.Itoa(p)}
		acked, items, pendings := 0, []int(nil), []int(nil)
		for _, r := range runs {
			acked += tri(r.acked[p])
			pendings = append(pendings, r.pending[p])
			last := 0
			for _, g := range reqs {
				if g.pair == pr && slices.Contains(strings.Fields(g.userAgent), r.ua) {
					last = g.value
				}
			}
			items = append(items, r.pending[p], last)
		}
		got := fake.sum(pr)
		if !subsetSum(got-acked, items) {
			t.Errorf("pair %d: kelviq's sum %d, acknowledged %d; allowed extra: any of (in progress, last request) per run %v", p, got, acked, items)
		}
		if !subsetSum(got-acked, pendings) {
			doubled++ // the extra needs a request sent twice
		}
	}
	if o := fake.overlapping(); len(o) > 0 {
		t.Errorf("overlapping requests for one pair: %v", o)
	}
	t.Logf("%d kills, %d requests; %d pairs had a request in flight at a kill counted twice", len(runs), len(reqs), doubled)
}
