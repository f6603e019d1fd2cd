package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

const (
	oldKey   = "sk_test_rotated_out"
	newKey   = "sk_test_current"
	rotPairs = 5
	perPair  = 20 // values 1..20: 210 per pair
)

// park reports 100 DELTAs over 5 pairs through r, whose key kelviq
// refuses (401), and waits until all 100 are dead letters.
func park(t *testing.T, r *usage.Reporter) {
	t.Helper()
	ctx := context.Background()
	for n := 1; n <= perPair; n++ {
		for p := range rotPairs {
			if err := r.Report(ctx, "cust", fmt.Sprintf("f%d", p), n, api.ReportUsageRequestBehaviourDELTA); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for r.Stats().DeadLetters != rotPairs*perPair {
		if time.Now().After(deadline) {
			t.Fatalf("Stats after 30 s: %+v, want 100 dead letters", r.Stats())
		}
		_, _ = r.Flush(ctx)
		time.Sleep(20 * time.Millisecond)
	}
}

// checkParked checks inspect -json on the parked outbox: 100 dead letters,
// 401, nothing queued, then purges f4's and checks the rest.
func purgeF4(t *testing.T, where ...string) {
	t.Helper()
	in := inspectJSON(t, 0, where...)
	if len(in.Queued) != 0 || len(in.DeadLetters) != rotPairs*perPair {
		t.Fatalf("inspect: %d queued pairs, %d dead letters; want 0 and 100", len(in.Queued), len(in.DeadLetters))
	}
	for _, d := range in.DeadLetters {
		if d.Reason != "401" || d.Status != 401 || d.Customer != "cust" || d.Behaviour != "DELTA" || d.ID == "" {
			t.Fatalf("dead letter %+v, want a 401 DELTA of cust", d)
		}
	}
	text := runWant(t, 0, append([]string{"inspect", "-feature", "f2"}, where...)...).stdout
	if !strings.Contains(text, "dead letters: 20") || !strings.Contains(text, `"f2"`) || strings.Contains(text, `"f3"`) {
		t.Fatalf("inspect -feature f2 printed:\n%s", text)
	}
	runWant(t, 1, append([]string{"inspect", "-reason", "422"}, where...)...)
	runWant(t, 1, append([]string{"purge", "-customer", "nobody"}, where...)...)
	out := runWant(t, 0, append([]string{"purge", "-feature", "f4", "-reason", "401"}, where...)...).stdout
	if !strings.Contains(out, "purged 20 dead letters") {
		t.Fatalf("purge printed %q", out)
	}
	in = inspectJSON(t, 0, where...)
	if len(in.DeadLetters) != (rotPairs-1)*perPair {
		t.Fatalf("after purging f4: %d dead letters, want 80", len(in.DeadLetters))
	}
	for _, d := range in.DeadLetters {
		if d.Feature == "f4" {
			t.Fatalf("a purged dead letter is still listed: %+v", d)
		}
	}
}

func checkSums(t *testing.T, fake *fakeAPI) {
	t.Helper()
	for p := range rotPairs {
		want := perPair * (perPair + 1) / 2
		if p == 4 {
			want = 0 // purged
		}
		if got := fake.sum(fmt.Sprintf("f%d", p)); got != want {
			t.Errorf("f%d: kelviq has %d, want %d", p, got, want)
		}
	}
}

// Key rotation on a file: a 401 parks 100 reports; after the key is fixed,
// kelviq-usage purges f4's, requeues the rest, and the next Reporter
// delivers them with exact sums.
func TestKeyRotationOnAFile(t *testing.T) {
	fake := newFakeAPI(t, newKey)
	path := filepath.Join(t.TempDir(), "outbox.db")
	r, err := usage.NewReporter(newKelviq(t, fake.srv.URL, oldKey), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	park(t, r)

	// While the Reporter runs, the file is its: the command says so and
	// changes nothing.
	res := runWant(t, 2, "purge", "-all", "-path", path)
	if !strings.Contains(res.stderr, "held by a running Reporter") || !strings.Contains(res.stderr, "nothing was changed") {
		t.Fatalf("purge on a held file: %s", res.stderr)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	purgeF4(t, "-path", path)
	out := runWant(t, 0, "requeue", "-json", "-path", path).stdout
	if strings.TrimSpace(out) != `{"requeued":80}` {
		t.Fatalf("requeue -json printed %q", out)
	}
	runWant(t, 1, "requeue", "-path", path)
	in := inspectJSON(t, 0, "-path", path)
	if len(in.DeadLetters) != 0 || len(in.Queued) != rotPairs-1 {
		t.Fatalf("after requeue: %+v", in)
	}
	for _, q := range in.Queued {
		if q.Reports != perPair || q.Leased {
			t.Fatalf("queued %+v, want %d reports not in flight", q, perPair)
		}
	}

	r2, err := usage.NewReporter(newKelviq(t, fake.srv.URL, newKey), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r2.Flush(context.Background()); err != nil || n != 0 {
		t.Fatalf("Flush with the new key: %d left, %v", n, err)
	}
	if err := r2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkSums(t, fake)
	runWant(t, 1, "inspect", "-path", path)
}

// Key rotation on Redis: the same with the command on -redis and the
// Reporter's RequeueDeadLetters, while Reporters run.
func TestKeyRotationOnRedis(t *testing.T) {
	fake := newFakeAPI(t, newKey)
	srv := redistest.StartPersistent(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	o, err := redisoutbox.New(rdb, "rotation:")
	if err != nil {
		t.Fatal(err)
	}
	r, err := usage.NewReporter(newKelviq(t, fake.srv.URL, oldKey), usage.WithOutbox(o))
	if err != nil {
		t.Fatal(err)
	}
	park(t, r)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	where := []string{"-redis", "redis://" + srv.Addr + "/0", "-prefix", "rotation:"}
	purgeF4(t, where...)

	r2, err := usage.NewReporter(newKelviq(t, fake.srv.URL, newKey), usage.WithOutbox(o))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close(context.Background())
	n, err := r2.RequeueDeadLetters(context.Background(), nil)
	if err != nil || n != (rotPairs-1)*perPair {
		t.Fatalf("RequeueDeadLetters = %d, %v; want 80", n, err)
	}
	if n, err := r2.Flush(context.Background()); err != nil || n != 0 {
		t.Fatalf("Flush with the new key: %d left, %v", n, err)
	}
	checkSums(t, fake)
	runWant(t, 1, append([]string{"inspect"}, where...)...)
}
