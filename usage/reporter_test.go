package usage_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
)

const (
	delta = api.ReportUsageRequestBehaviourDELTA
	set   = api.ReportUsageRequestBehaviourSET
)

func newReporter(t testing.TB, c *kelviq.Client, opts ...usage.Option) *usage.Reporter {
	t.Helper()
	r, err := usage.NewReporter(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}

// flushAll flushes until nothing remains, for a bounded number of tries.
func flushAll(t testing.TB, r *usage.Reporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; ; i++ {
		n, err := r.Flush(ctx)
		if n == 0 && err == nil {
			return
		}
		if i == 50 || ctx.Err() != nil {
			t.Fatalf("flush: %d reports remain: %v", n, err)
		}
	}
}

func TestReportRefusesBadInputAndStoresNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	fake := newFakeAPI(t, "")
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
	ctx := context.Background()
	cases := []struct {
		name              string
		customer, feature string
		value             int
		b                 api.ReportUsageRequestBehaviour
		want              string
	}{
		{"empty customer", "", "seats", 1, delta, "customerID is empty"},
		{"empty feature", "c1", "", 1, delta, "featureID is empty"},
		{"long customer", strings.Repeat("x", 1025), "seats", 1, delta, "customerID is 1025 bytes long"},
		{"not UTF-8", "c\xff", "seats", 1, delta, "customerID is not valid UTF-8"},
		{"unknown behaviour", "c1", "seats", 1, "ADD", `behaviour "ADD" is unknown`},
		{"empty behaviour", "c1", "seats", 1, "", `behaviour "" is unknown`},
		{"negative SET", "c1", "seats", -1, set, "value -1 is negative"},
	}
	for _, tc := range cases {
		err := r.Report(ctx, tc.customer, tc.feature, tc.value, tc.b)
		if !errors.Is(err, usage.ErrInvalidReport) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrInvalidReport saying %q", tc.name, err, tc.want)
		}
	}
	// A negative DELTA is a decrement, and valid.
	if err := r.Report(ctx, "c1", "seats", -3, delta); err != nil {
		t.Fatalf("negative DELTA: %v", err)
	}
	flushAll(t, r)
	if s := r.Stats(); s.Stored != 1 || s.Sent != 1 {
		t.Errorf("stats = %+v, want only the valid report stored and sent", s)
	}
	if got := fake.received(); len(got) != 1 || got[0].value != -3 {
		t.Errorf("the API received %+v, want the one DELTA -3", got)
	}
}

func TestNewReporterNeedsAnOutbox(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1")
	for name, opts := range map[string][]usage.Option{
		"neither":  nil,
		"both":     {usage.WithMemory(), usage.WithPath(filepath.Join(t.TempDir(), "x.db"))},
		"delivery": {usage.WithMemory(), usage.WithDelivery(7)},
	} {
		if r, err := usage.NewReporter(c, opts...); err == nil {
			_ = r.Close(context.Background())
			t.Errorf("%s: NewReporter succeeded", name)
		}
	}
	if _, err := usage.NewReporter(nil, usage.WithMemory()); err == nil {
		t.Error("NewReporter(nil) succeeded")
	}
	if _, err := usage.NewReporter(c, usage.WithPath(filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"))); err == nil {
		t.Error("NewReporter on a missing directory succeeded")
	}
}

func TestSecondReporterOnOneFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	fake := newFakeAPI(t, deadAddr(t)) // placeholder so the address is real
	down := newClient(t, "http://"+deadAddr(t))
	first := newReporter(t, down, usage.WithPath(path))
	ctx := context.Background()
	for i := range 10 {
		if err := first.Report(ctx, "c1", "seats", i+1, delta); err != nil {
			t.Fatal(err)
		}
	}
	second, err := usage.NewReporter(down, usage.WithPath(path))
	if err == nil {
		_ = second.Close(ctx)
		t.Fatal("a second Reporter opened the same file")
	}
	if !errors.Is(err, usage.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want ErrLocked naming the file", err)
	}
	// The first one is unharmed, and so is the file.
	if err := first.Report(ctx, "c1", "seats", 100, delta); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
	flushAll(t, again)
	if got := fake.sum(pair{"c1", "seats"}); got != 155 {
		t.Errorf("sum = %d, want 155", got)
	}
}

// The outage test: 10,000 reports over 50 pairs while kelviq is down
// arrive as at most one request per pair, with every sum exact.
func TestOutageReplaysOneRequestPerPair(t *testing.T) {
	addr := deadAddr(t)
	path := filepath.Join(t.TempDir(), "outbox.db")
	r := newReporter(t, newClient(t, "http://"+addr), usage.WithPath(path))
	const pairs, reports, workers = 50, 10_000, 8
	want := make([]int, pairs)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// Worker w owns pairs w, w+8, …: the order of each pair's
			// reports is this loop's.
			for i := range reports {
				p := i % pairs
				if p%workers != w {
					continue
				}
				v, b := i%7+1, delta
				if i%97 == 0 {
					v, b = 1000+i, set
				}
				if err := r.Report(context.Background(), fmt.Sprintf("cust-%d", p%10), fmt.Sprintf("feat-%d", p), v, b); err != nil {
					t.Error(err)
					return
				}
				if b == set {
					want[p] = v
				} else {
					want[p] += v
				}
			}
		})
	}
	wg.Wait()
	if s := r.Stats(); s.Stored != reports || s.Sent != 0 || s.Queued != reports {
		t.Fatalf("during the outage: %+v", s)
	}
	fake := newFakeAPI(t, addr)
	flushAll(t, r)
	reqs := fake.received()
	if len(reqs) > pairs {
		t.Errorf("the API received %d requests, want at most %d", len(reqs), pairs)
	}
	for p := range pairs {
		if got := fake.sum(pair{fmt.Sprintf("cust-%d", p%10), fmt.Sprintf("feat-%d", p)}); got != want[p] {
			t.Errorf("pair %d: sum %d, want %d", p, got, want[p])
		}
	}
	s := r.Stats()
	if s.Sent != reports || s.Queued != 0 || s.Coalesced != int64(reports-len(reqs)) || s.Dropped != 0 {
		t.Errorf("after recovery: %+v (requests %d)", s, len(reqs))
	}
}

func TestRefusedReportsGoToTheDeadLetterBucket(t *testing.T) {
	fake := newFakeAPI(t, "")
	fake.setAnswer(func(_ int, g got) (int, http.Header, bool) {
		if g.feature == "gone" {
			return http.StatusBadRequest, nil, false
		}
		return http.StatusOK, nil, true
	})
	var mu sync.Mutex
	var dropped []usage.Report
	var errs []error
	path := filepath.Join(t.TempDir(), "outbox.db")
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path), usage.WithOnDropped(func(rep usage.Report, err error) {
		mu.Lock()
		dropped = append(dropped, rep)
		errs = append(errs, err)
		mu.Unlock()
	}))
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if err := r.Report(ctx, "c1", "gone", i, delta); err != nil {
			t.Fatal(err)
		}
		if err := r.Report(ctx, "c1", "seats", i, delta); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = r.Flush(ctx)
	flushAll(t, r)
	mu.Lock()
	defer mu.Unlock()
	if len(dropped) != 3 {
		t.Fatalf("OnDropped called %d times, want once for each of the 3 reports: %v", len(dropped), dropped)
	}
	for i, rep := range dropped {
		var apiErr *kelviq.Error
		if rep.FeatureID != "gone" || rep.Value != i+1 || rep.Behaviour != delta || !errors.As(errs[i], &apiErr) || apiErr.StatusCode != 400 {
			t.Errorf("dropped[%d] = %+v, %v", i, rep, errs[i])
		}
	}
	if got := fake.sum(pair{"c1", "seats"}); got != 6 {
		t.Errorf("the good pair's sum = %d, want 6", got)
	}
	if s := r.Stats(); s.Dropped != 3 || s.Sent != 3 || s.Queued != 0 {
		t.Errorf("stats = %+v", s)
	}
	dl, err := r.DeadLetters()
	if err != nil || len(dl) != 3 || !strings.Contains(dl[0].Reason, "400") || dl[2].Report.Value != 3 {
		t.Errorf("dead letters = %+v, %v", dl, err)
	}
	// The dead letters survive a restart; they are not sent again.
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	n := len(fake.received())
	again := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
	flushAll(t, again)
	if dl, _ := again.DeadLetters(); len(dl) != 3 || len(fake.received()) != n {
		t.Errorf("after a restart: %d dead letters, %d new requests", len(dl), len(fake.received())-n)
	}
}

// clock is a time the test moves.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestRetryAfterIsHonoured(t *testing.T) {
	fake := newFakeAPI(t, "")
	fake.setAnswer(func(n int, _ got) (int, http.Header, bool) {
		if n == 0 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"120"}}, false
		}
		return http.StatusOK, nil, true
	})
	clk := &clock{}
	clk.ns.Store(time.Now().UnixNano())
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory(), usage.WithClock(clk.now), usage.WithBackoff(time.Millisecond, time.Millisecond))
	ctx := context.Background()
	if err := r.Report(ctx, "c1", "seats", 5, delta); err != nil {
		t.Fatal(err)
	}
	n, err := r.Flush(ctx)
	if n != 1 || err == nil {
		t.Fatalf("first flush: %d, %v; want 1 remaining and the 429", n, err)
	}
	if len(fake.received()) != 1 {
		t.Fatalf("%d requests, want 1", len(fake.received()))
	}
	// 119 s later by the Reporter's clock: nothing is sent, by Flush or
	// by the background sender (whose backoff alone is 1 ms).
	clk.advance(119 * time.Second)
	for range 3 {
		n, err = r.Flush(ctx)
		if n != 1 || !errors.Is(err, kelviq.ErrRateLimited) || !strings.Contains(err.Error(), "Retry-After") {
			t.Fatalf("flush during Retry-After: %d, %v", n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := len(fake.received()); got != 1 {
		t.Fatalf("%d requests before Retry-After ran out, want 1", got)
	}
	clk.advance(2 * time.Second)
	flushAll(t, r)
	if got := len(fake.received()); got != 2 || fake.sum(pair{"c1", "seats"}) != 5 {
		t.Errorf("%d requests, sum %d; want 2 and 5", got, fake.sum(pair{"c1", "seats"}))
	}
	if s := r.Stats(); s.Retried != 1 || s.Sent != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestCloseWithShortDeadlineLeavesTheRestForTheNextStart(t *testing.T) {
	stuck := newStuckAPI(t)
	path := filepath.Join(t.TempDir(), "outbox.db")
	r, err := usage.NewReporter(newClient(t, stuck.srv.URL), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := map[pair]int{}
	for i := range 100 {
		p := pair{"c1", fmt.Sprintf("f%d", i%5)}
		if err := r.Report(ctx, p.customer, p.feature, i, delta); err != nil {
			t.Fatal(err)
		}
		want[p] += i
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := r.Close(cctx); err != nil {
		t.Fatalf("Close: %v (reports left on disk are not an error)", err)
	}
	if err := r.Report(ctx, "c1", "f0", 1, delta); !errors.Is(err, usage.ErrClosed) {
		t.Errorf("Report after Close: %v", err)
	}
	fake := newFakeAPI(t, "")
	next := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
	flushAll(t, next)
	for p, v := range want {
		if got := fake.sum(p); got != v {
			t.Errorf("%v: sum %d, want %d", p, got, v)
		}
	}
	if s := next.Stats(); s.Sent != 100 {
		t.Errorf("the next start sent %d reports, want 100", s.Sent)
	}
}

// A 5xx after the server applied the DELTA: AtLeastOnce resends it (kelviq
// counts it twice), AtMostOnce dead-letters it as uncertain. A SET is
// resent under both.
func TestAmbiguousDeltaFollowsTheDeliveryMode(t *testing.T) {
	for _, mode := range []usage.Delivery{usage.AtLeastOnce, usage.AtMostOnce} {
		t.Run(mode.String(), func(t *testing.T) {
			fake := newFakeAPI(t, "")
			failed := map[pair]bool{}
			fake.setAnswer(func(_ int, g got) (int, http.Header, bool) {
				if !failed[g.pair] {
					failed[g.pair] = true
					return http.StatusBadGateway, nil, true // applied, then failed
				}
				return http.StatusOK, nil, true
			})
			var calls atomic.Int32
			r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory(), usage.WithDelivery(mode),
				usage.WithOnDropped(func(_ usage.Report, err error) {
					if errors.Is(err, usage.ErrUncertain) && errors.Is(err, kelviq.ErrServerError) {
						calls.Add(1)
					}
				}))
			ctx := context.Background()
			if err := r.Report(ctx, "c1", "calls", 7, delta); err != nil {
				t.Fatal(err)
			}
			flushUntilSettled(t, r, fake, 1)
			if err := r.Report(ctx, "c1", "seats", 3, set); err != nil {
				t.Fatal(err)
			}
			flushAll(t, r)
			dsum, ssum := fake.sum(pair{"c1", "calls"}), fake.sum(pair{"c1", "seats"})
			s := r.Stats()
			if ssum != 3 {
				t.Errorf("SET: sum %d, want 3", ssum)
			}
			switch mode {
			case usage.AtLeastOnce:
				if dsum != 14 || s.Uncertain != 0 || calls.Load() != 0 {
					t.Errorf("DELTA: sum %d (want 14: resent), stats %+v", dsum, s)
				}
			case usage.AtMostOnce:
				if dsum != 7 || s.Uncertain != 1 || calls.Load() != 1 {
					t.Errorf("DELTA: sum %d (want 7: not resent), uncertain callbacks %d, stats %+v", dsum, calls.Load(), s)
				}
			}
		})
	}
}

// flushUntilSettled flushes until the API has seen n requests or more and
// nothing is queued.
func flushUntilSettled(t *testing.T, r *usage.Reporter, fake *fakeAPI, n int) {
	t.Helper()
	for range 50 {
		rem, _ := r.Flush(context.Background())
		if rem == 0 && len(fake.received()) >= n {
			return
		}
	}
	t.Fatalf("not settled: %+v", r.Stats())
}
