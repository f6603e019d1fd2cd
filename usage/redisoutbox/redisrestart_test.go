package redisoutbox_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

// Redis is SIGKILLed mid-run and restarted on its data directory: Report
// fails with ErrUnavailable during the outage, delivery resumes on its own,
// and no acknowledged report is lost. Anything counted beyond the
// acknowledged sum is a Report that failed after Redis had stored it (the
// answer was lost with the connection) or a request in flight when Redis
// went, whose delete could not be stored.
func TestRedisKilledAndRestarted(t *testing.T) {
	const pairs = 5
	srv := redistest.StartPersistent(t)
	fake := newFakeAPI(t)
	o, err := redisoutbox.New(newClient(t, srv), "restart:", redisoutbox.WithLeaseTTL(time.Second), redisoutbox.WithPollInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r, err := usage.NewReporter(newKelviq(t, fake.srv.URL, goodKey, "restart"), usage.WithOutbox(o))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())

	var (
		mu       sync.Mutex
		acked    [pairs]int
		failed   [pairs][]int
		unavail  int
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		otherErr error
	)
	for p := range pairs {
		wg.Go(func() {
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				err := r.Report(ctx, "fleet", "f"+strconv.Itoa(p), n, api.ReportUsageRequestBehaviourDELTA)
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					acked[p] += n
				case errors.Is(err, usage.ErrUnavailable) && strings.Contains(err.Error(), "Redis"):
					failed[p] = append(failed[p], n)
					unavail++
				default:
					failed[p] = append(failed[p], n)
					if otherErr == nil {
						otherErr = err
					}
				}
				mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	killedAt := time.Now()
	srv.Kill()
	time.Sleep(500 * time.Millisecond)
	srv.Restart(t)
	restartedAt := time.Now()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if otherErr != nil {
		t.Fatalf("Report failed with %v, want ErrUnavailable naming Redis", otherErr)
	}
	if unavail == 0 {
		t.Fatal("no Report failed while Redis was down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if n, err := r.Flush(ctx); err != nil || n != 0 {
		t.Fatalf("Flush after the restart: %d left, %v", n, err)
	}
	reqs := fake.received()
	for p := range pairs {
		pr := pair{"fleet", "f" + strconv.Itoa(p)}
		items := append([]int(nil), failed[p]...)
		for _, g := range reqs {
			// Requests sent around the outage may be settled in Redis or not.
			if g.pair == pr && g.at.After(killedAt.Add(-time.Second)) && g.at.Before(restartedAt.Add(time.Second)) {
				items = append(items, g.value)
			}
		}
		got := fake.sum(pr)
		if got < acked[p] {
			t.Errorf("pair %d: kelviq has %d, %d was acknowledged: acknowledged reports lost", p, got, acked[p])
		} else if !subsetSum(got-acked[p], items) {
			t.Errorf("pair %d: kelviq has %d, acknowledged %d; the extra is none of the failed reports %v and outage requests", p, got, acked[p], failed[p])
		}
	}
	t.Logf("%d Reports failed with ErrUnavailable during the outage", unavail)
}
