package usage_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kelviq/kelviq-go/usage"
)

// snapshot copies the outbox file as a kill -9 at this moment would leave
// it: every commit is synced, and nothing is being written.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "after-kill.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return cp
}

// A kill -9 while a DELTA's request is in flight, after kelviq applied it:
// the next start sent it again, counting it twice, although AtMostOnce
// promises a report is never counted twice. It now finds the request
// marked as in flight and dead-letters its reports as uncertain. A SET in
// flight is sent again, and AtLeastOnce sends a DELTA again.
func TestKillWithRequestInFlight(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      usage.Delivery
		behaviour string
		resent    bool
	}{
		{"AtMostOnce DELTA", usage.AtMostOnce, "DELTA", false},
		{"AtMostOnce SET", usage.AtMostOnce, "SET", true},
		{"AtLeastOnce DELTA", usage.AtLeastOnce, "DELTA", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := delta
			if tc.behaviour == "SET" {
				b = set
			}
			path := filepath.Join(t.TempDir(), "outbox.db")
			var killed string
			fake := newFakeAPI(t, "")
			fake.setAnswer(func(n int, _ got) (int, http.Header, bool) {
				if n == 0 {
					killed = snapshot(t, path) // applied, and the process dies before the answer
				}
				return http.StatusOK, nil, true
			})
			// Both reports stored while kelviq is down, then sent in one
			// request by the next start.
			ctx := context.Background()
			down, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []int{3, 4} {
				if err := down.Report(ctx, "c1", "calls", v, b); err != nil {
					t.Fatal(err)
				}
			}
			if err := down.Close(ctx); err != nil {
				t.Fatal(err)
			}
			r := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path), usage.WithDelivery(tc.mode))
			flushAll(t, r)
			if len(fake.received()) != 1 {
				t.Fatalf("%d requests, want the 2 reports in 1", len(fake.received()))
			}
			inFlight := fake.received()[0]

			// The world after the kill: kelviq applied the request in flight.
			p := pair{"c1", "calls"}
			after := newFakeAPI(t, "")
			after.usage[p] = inFlight.value
			var uncertain atomic.Int32
			next := newReporter(t, newClient(t, after.srv.URL), usage.WithPath(killed), usage.WithDelivery(tc.mode),
				usage.WithOnDropped(func(_ usage.Report, err error) {
					if errors.Is(err, usage.ErrUncertain) {
						uncertain.Add(1)
					}
				}))
			flushAll(t, next)
			s := next.Stats()
			want := 7 // 3 + 4, each counted once
			switch {
			case tc.behaviour == "SET":
				want = 4
			case tc.resent:
				want = 14 // counted twice, as AtLeastOnce allows
			}
			if got := after.sum(p); got != want {
				t.Errorf("kelviq's sum %d, want %d (in flight at the kill: %+v); stats %+v", got, want, inFlight, s)
			}
			if tc.resent {
				if s.Uncertain != 0 || s.Queued != 0 {
					t.Errorf("stats %+v, want everything sent", s)
				}
				return
			}
			const covered = 2
			if s.Uncertain != covered || uncertain.Load() != covered || s.Sent != 2-covered {
				t.Errorf("stats %+v, %d callbacks; want %d uncertain", s, uncertain.Load(), covered)
			}
			dl, err := next.DeadLetters()
			if err != nil || len(dl) != covered || !strings.Contains(dl[0].Error, "in flight") || dl[0].Reason != usage.ReasonUncertain {
				t.Errorf("dead letters %+v, %v", dl, err)
			}
		})
	}
}

// A 429 is not applied: AtMostOnce removes the in-flight mark, and a kill
// after it does not dead-letter reports kelviq never saw.
func TestKillAfterNotAppliedResends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	fake := newFakeAPI(t, "")
	fake.setAnswer(func(int, got) (int, http.Header, bool) { return http.StatusTooManyRequests, nil, false })
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path), usage.WithDelivery(usage.AtMostOnce))
	if err := r.Report(context.Background(), "c1", "calls", 5, delta); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Flush(context.Background()); n != 1 {
		t.Fatalf("%d left after the 429, want 1", n)
	}
	killed := snapshot(t, path)
	after := newFakeAPI(t, "")
	next := newReporter(t, newClient(t, after.srv.URL), usage.WithPath(killed), usage.WithDelivery(usage.AtMostOnce))
	flushAll(t, next)
	if s := next.Stats(); s.Uncertain != 0 || s.Sent != 1 || after.sum(pair{"c1", "calls"}) != 5 {
		t.Errorf("stats %+v, sum %d; want the report sent", s, after.sum(pair{"c1", "calls"}))
	}
}
