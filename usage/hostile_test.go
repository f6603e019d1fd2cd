package usage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
	bolt "go.etcd.io/bbolt"
)

// Attacks of a hostile or broken server, a careless caller and a crash on
// the Reporter, found in review; each test failed before its fix, or
// pins down what held.

// A 2xx whose Content-Length promises more than the server sends before
// it hangs up was still a 2xx: the report was taken, and is not sent
// again (which would count the DELTA twice), under both deliveries.
// Likewise a 2xx whose JSON body does not decode.
func TestBroken2xxBodyCountsAsDelivered(t *testing.T) {
	bodies := map[string]func(w http.ResponseWriter){
		"lying Content-Length": func(w http.ResponseWriter) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"va")
			_ = buf.Flush()
		},
		"undecodable JSON": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"value": "not a number", `))
		},
	}
	for name, answer := range bodies {
		for _, mode := range []usage.Delivery{usage.AtLeastOnce, usage.AtMostOnce} {
			t.Run(name+"/"+mode.String(), func(t *testing.T) {
				var requests atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					requests.Add(1)
					answer(w)
				}))
				defer srv.Close()
				r := newReporter(t, newClient(t, srv.URL), usage.WithMemory(), usage.WithDelivery(mode))
				if err := r.Report(context.Background(), "c1", "calls", 1, delta); err != nil {
					t.Fatal(err)
				}
				flushAll(t, r)
				flushAll(t, r)
				if s := r.Stats(); requests.Load() != 1 || s.Sent != 1 || s.Retried != 0 || s.Uncertain != 0 || s.Queued != 0 {
					t.Errorf("%d requests, stats %+v; want one request, sent", requests.Load(), s)
				}
			})
		}
	}
}

// A 302 to the POST would make net/http follow with a GET, whose 2xx says
// nothing about the report: it was never applied. It was counted as sent
// and deleted (lost). The client now returns the 302 without following it
// (kelviq's redirect policy), so the report goes to the dead letters with
// the 302 as its reason, and no GET is made.
func TestRedirectedPostIsNotTakenAsDelivered(t *testing.T) {
	var gets atomic.Int32
	srv, posts := newRedirectingAPI(t, http.StatusFound, func(w http.ResponseWriter, _ *http.Request) {
		gets.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value": 1}`))
	})
	var mu sync.Mutex
	var drops []usage.Report
	r := newReporter(t, newClient(t, srv.URL), usage.WithMemory(),
		usage.WithOnDropped(func(rep usage.Report, _ error) { mu.Lock(); drops = append(drops, rep); mu.Unlock() }))
	ctx := context.Background()
	for _, v := range []int{1, 2} {
		if err := r.Report(ctx, "c1", "calls", v, delta); err != nil {
			t.Fatal(err)
		}
	}
	// (The background sender may have met the redirect first.)
	if n, err := r.Flush(ctx); n != 0 || (err != nil && !strings.Contains(err.Error(), "302 Found")) {
		t.Errorf("Flush = %d, %v; want 0 left", n, err)
	}
	s := r.Stats()
	if s.Sent != 0 || s.Dropped != 2 || s.Queued != 0 || posts.Load() < 1 || gets.Load() != 0 {
		t.Errorf("stats %+v after %d POST, %d GET; want both reports dropped, none sent", s, posts.Load(), gets.Load())
	}
	if dl, err := r.DeadLetters(); err != nil || len(dl) != 2 || !strings.Contains(dl[0].Error, "302 Found") || dl[0].Reason != usage.ReasonRedirect || dl[0].Status != 302 {
		t.Errorf("dead letters %+v, %v", dl, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(drops) != 2 || drops[0].Value+drops[1].Value != 3 {
		t.Errorf("callback got %+v, want the two reports", drops)
	}
}

// A Retry-After kelviq's client reads as years (a huge number, a date far
// ahead) stopped every send, Flush's too, until the next restart; it
// counts as 10 minutes now. A negative one or a date in the past is no
// wait at all.
func TestRetryAfterIsBounded(t *testing.T) {
	for _, tc := range []struct {
		header string
		wait   time.Duration // the Reporter waits this long, not less
	}{
		{"999999999999", 10 * time.Minute},
		{"Fri, 31 Dec 9999 23:59:59 GMT", 10 * time.Minute},
		{"-5", 0},
		{"Mon, 01 Jan 1990 00:00:00 GMT", 0},
	} {
		t.Run(tc.header, func(t *testing.T) {
			fake := newFakeAPI(t, "")
			fake.setAnswer(func(n int, _ got) (int, http.Header, bool) {
				if n == 0 {
					return http.StatusTooManyRequests, http.Header{"Retry-After": {tc.header}}, false
				}
				return http.StatusOK, nil, true
			})
			clk := &clock{}
			clk.ns.Store(time.Now().UnixNano())
			r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory(), usage.WithClock(clk.now),
				usage.WithBackoff(time.Millisecond, time.Millisecond))
			ctx := context.Background()
			if err := r.Report(ctx, "c1", "calls", 5, delta); err != nil {
				t.Fatal(err)
			}
			if tc.wait > 0 {
				// (The 429 may go to the background sender or to Flush.)
				if n, err := r.Flush(ctx); n != 1 || !errors.Is(err, kelviq.ErrRateLimited) {
					t.Fatalf("first flush: %d, %v; want the 429", n, err)
				}
				clk.advance(tc.wait - time.Second)
				if n, err := r.Flush(ctx); n != 1 || !strings.Contains(fmt_(err), "Retry-After") {
					t.Fatalf("flush 1 s before the bound: %d, %v; want it still waiting", n, err)
				}
				clk.advance(2 * time.Second)
			}
			flushAll(t, r)
			if got := fake.sum(pair{"c1", "calls"}); got != 5 || len(fake.received()) != 2 {
				t.Errorf("sum %d after %d requests, want 5 after 2", got, len(fake.received()))
			}
		})
	}
}

func fmt_(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ErrClosed says Close returns it after Close: a second Close returned nil
// at once, even while the first was still sending, so its caller took the
// outbox for closed. It waits for the first now. Flush, Report and
// DeadLetters after Close return ErrClosed too.
func TestSecondCloseWaitsAndReturnsErrClosed(t *testing.T) {
	stuck := newStuckAPI(t)
	path := filepath.Join(t.TempDir(), "outbox.db")
	r, err := usage.NewReporter(newClient(t, stuck.srv.URL), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Report(ctx, "c1", "calls", 1, delta); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := r.Close(cctx); err != nil {
			t.Errorf("first Close: %v", err)
		}
	})
	// Until the first Close has begun, Report still stores.
	for r.Report(ctx, "c1", "calls", 1, delta) == nil {
		time.Sleep(time.Millisecond)
	}
	_, ferr := r.Flush(ctx)
	if err := r.Close(ctx); !errors.Is(err, usage.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	// Once it returned, the file is free: the next Reporter opens it
	// (waiting 100 ms at most for the lock), while the first Close, its
	// request hanging, would hold it for 300 ms.
	next, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatalf("opening the file after the second Close: %v", err)
	}
	wg.Wait()
	if !errors.Is(ferr, usage.ErrClosed) {
		t.Errorf("Flush during Close = %v, want ErrClosed", ferr)
	}
	if err := r.Report(ctx, "c1", "calls", 1, delta); !errors.Is(err, usage.ErrClosed) {
		t.Errorf("Report after Close = %v", err)
	}
	if _, err := r.DeadLetters(); !errors.Is(err, usage.ErrClosed) {
		t.Errorf("DeadLetters after Close = %v", err)
	}
	if s := next.Stats(); s.Queued == 0 {
		t.Errorf("the next start found nothing queued: %+v", s)
	}
	_ = next.Close(ctx)
}

// A 401 (or 403) dead-letters every queued report, one request per pair,
// as for any 4xx: that is the contract. It is counted per original
// report, the callback runs once for each, and the log says the key was
// refused, without the key (which this server echoes back).
func TestRefusedKeyIsCountedAndLoggedClearly(t *testing.T) {
	const key = "sk_live_wrong_but_secret_0123456789"
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`{"detail":"key ` + strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ") + ` refused"}`))
			}))
			defer srv.Close()
			c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(key), kelviq.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			var mu sync.Mutex
			var calls atomic.Int32
			var sum atomic.Int64
			r := newReporter(t, c, usage.WithMemory(),
				usage.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{&mu, &logs}, nil))),
				usage.WithOnDropped(func(rep usage.Report, err error) {
					if errors.Is(err, kelviq.ErrUnauthorized) || errors.Is(err, kelviq.ErrForbidden) {
						calls.Add(1)
						sum.Add(int64(rep.Value))
					}
				}))
			ctx := context.Background()
			want := 0
			// (The background sender may send a pair before all its
			// reports are in: 3 requests or more.)
			for i := 1; i <= 12; i++ {
				b := delta
				if i%4 == 0 {
					b = set
				}
				if err := r.Report(ctx, "c1", []string{"calls", "seats", "storage"}[i%3], i, b); err != nil {
					t.Fatal(err)
				}
				want += i
			}
			// (The background sender may have dead-lettered everything
			// before Flush: then Flush has nothing to say.)
			if n, err := r.Flush(ctx); n != 0 || (err != nil && !errors.Is(err, kelviq.ErrUnauthorized) && !errors.Is(err, kelviq.ErrForbidden)) {
				t.Errorf("Flush = %d, %v; want nothing left and the refusal", n, err)
			}
			s := r.Stats()
			if s.Dropped != 12 || s.Sent != 0 || s.Queued != 0 || calls.Load() != 12 || sum.Load() != int64(want) || requests.Load() < 3 {
				t.Errorf("stats %+v, %d callbacks (sum %d), %d requests; want 12 dropped, 12 callbacks (sum %d), 3 requests or more",
					s, calls.Load(), sum.Load(), requests.Load(), want)
			}
			dl, err := r.DeadLetters()
			if err != nil || len(dl) != 12 {
				t.Fatalf("dead letters: %d, %v", len(dl), err)
			}
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "server key") || strings.Count(out, "server key") != int(requests.Load()) {
				t.Errorf("the log does not say the key was refused, once per request:\n%s", out)
			}
			for _, text := range append([]string{out}, dl[0].Error) {
				if strings.Contains(text, key) || strings.Contains(text, "0123456789") {
					t.Errorf("the key leaked: %s", text)
				}
			}
		})
	}
}

// A record of a newer format (written before a rollback of a deploy) was
// moved to the dead letters, where the newer version, back after the
// rollback, would never send it. It stays in the outbox now, said in the
// log, while the others are delivered; the newer version finds it.
func TestNewerFormatRecordIsLeftForTheNewerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Report(context.Background(), "c1", "calls", 5, delta); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	future := []byte{2, 0, 0xAA, 0xBB} // version 2: whatever it holds
	key := []byte{0, 0, 0, 0, 0, 0, 0x10, 0}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("outbox")).Put(key, future) }); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	var logs bytes.Buffer
	var mu sync.Mutex
	fake := newFakeAPI(t, "")
	next, err := usage.NewReporter(newClient(t, fake.srv.URL), usage.WithPath(path),
		usage.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{&mu, &logs}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	flushAll(t, next)
	dl, err := next.DeadLetters()
	if err != nil || len(dl) != 0 || fake.sum(pair{"c1", "calls"}) != 5 || len(fake.received()) != 1 {
		t.Errorf("dead letters %+v (%v), %d requests; want none, and the readable report sent", dl, err, len(fake.received()))
	}
	if err := next.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !strings.Contains(logs.String(), "newer version") {
		t.Errorf("the log does not say so: %s", logs.String())
	}
	mu.Unlock()
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if got := tx.Bucket([]byte("outbox")).Get(key); !bytes.Equal(got, future) {
			t.Errorf("the newer record is now %v, want it kept as it was", got)
		}
		return nil
	})
}

// IDs with odd bytes (NUL, a line separator, non-ASCII, the longest
// allowed) survive the file and a restart and reach kelviq byte for byte;
// a 1 MiB ID and one that is not UTF-8 are refused without quoting them.
func TestOddIDsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ids := []pair{
		{"c\x00d", "f\x00"},
		{"line\u2028sep", "tab\there"},
		{"ünïcødé-😀", "emoji-😀"},
		{strings.Repeat("x", 1024), strings.Repeat("y", 1024)},
	}
	r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, p := range ids {
		if err := r.Report(ctx, p.customer, p.feature, i+1, delta); err != nil {
			t.Fatalf("%q: %v", p, err)
		}
	}
	huge := strings.Repeat("z", 1<<20)
	for _, bad := range []string{huge, "bad\xffutf8"} {
		err := r.Report(ctx, bad, "f", 1, delta)
		if !errors.Is(err, usage.ErrInvalidReport) || len(err.Error()) > 200 {
			t.Errorf("err = %.200v, want a short ErrInvalidReport", err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := r.Close(cctx); err != nil {
		t.Fatal(err)
	}
	fake := newFakeAPI(t, "")
	next := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
	flushAll(t, next)
	for i, p := range ids {
		if got := fake.sum(p); got != i+1 {
			t.Errorf("%q: sum %d, want %d", p, got, i+1)
		}
	}
	if s := next.Stats(); s.Sent != int64(len(ids)) || len(fake.received()) != len(ids) {
		t.Errorf("stats %+v, %d requests", s, len(fake.received()))
	}
}

// kelviq accepts connections and never answers (a black hole): each pair's
// request fails only at the request timeout (30 s by default), and Flush,
// or a Close without a deadline, tried every pair in turn: 1,000 pairs
// took over two hours. The pass now stops starting pairs after a request
// that got no answer.
func TestFlushStopsAfterNoAnswer(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		requests.Add(1)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	path := filepath.Join(t.TempDir(), "outbox.db")
	down, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	const pairs = 40
	ctx := context.Background()
	for i := range pairs {
		if err := down.Report(ctx, "c1", "f"+strconv.Itoa(i), 1, delta); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := down.Close(cctx); err != nil {
		t.Fatal(err)
	}
	// (A long backoff keeps the background sender to its first requests.)
	r, err := usage.NewReporter(newClient(t, srv.URL), usage.WithPath(path), usage.WithRequestTimeout(100*time.Millisecond),
		usage.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Close without a deadline: the pass, not a deadline, must end it.
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The background sender's first requests, and Flush's (4 at a time),
	// at most; not one per pair.
	if n := requests.Load(); n > 12 {
		t.Errorf("%d requests to a kelviq that never answers, for %d pairs; want a few", n, pairs)
	}
	next, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if s := next.Stats(); s.Queued != pairs {
		t.Errorf("%d reports left on disk, want %d", s.Queued, pairs)
	}
	_ = next.Close(cctx)
}

// The same redirect, with a GET that answers a page instead of JSON: the
// client's error for a 2xx it cannot read carries no response, and the
// report was taken as delivered (lost). The sender counts the requests it
// wrote and the bodies they read, and sees the bodiless GET. A 307 sends
// the POST again, and its 2xx, readable or not, is a delivery.
func TestRedirectedPostWithUnreadableAnswer(t *testing.T) {
	for _, tc := range []struct {
		status  int
		applied bool
	}{
		{http.StatusFound, false},
		{http.StatusSeeOther, false},
		{http.StatusTemporaryRedirect, true},
		{http.StatusPermanentRedirect, true},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			var applied atomic.Int32
			srv, _ := newRedirectingAPI(t, tc.status, func(w http.ResponseWriter, req *http.Request) {
				if req.Method == http.MethodPost {
					if b, _ := io.ReadAll(req.Body); bytes.Contains(b, []byte(`"calls"`)) {
						applied.Add(1)
					}
				}
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html>welcome</html>"))
			})
			r := newReporter(t, newClient(t, srv.URL), usage.WithMemory())
			if err := r.Report(context.Background(), "c1", "calls", 1, delta); err != nil {
				t.Fatal(err)
			}
			_, _ = r.Flush(context.Background())
			s := r.Stats()
			dl, _ := r.DeadLetters()
			if tc.applied {
				if s.Sent != 1 || s.Dropped != 0 || applied.Load() != 1 {
					t.Errorf("stats %+v, applied %d times; want sent once", s, applied.Load())
				}
				return
			}
			if s.Sent != 0 || s.Dropped != 1 || len(dl) != 1 || !strings.Contains(dl[0].Error, http.StatusText(tc.status)) || dl[0].Reason != usage.ReasonRedirect {
				t.Errorf("stats %+v, dead letters %+v; want the report dead-lettered, not taken as sent", s, dl)
			}
		})
	}
}

// A damaged outbox: its sequence behind its last key (set back by a tool
// or damage), or a nested bucket where a record goes. bbolt's
// NextSequence then gave a key in use: Put wrote the new report over a
// stored one (lost), or failed on the nested bucket for every Report
// from then on. The sequence is moved past the last key at open now.
func TestDamagedOutboxSequenceOverwritesNothing(t *testing.T) {
	for _, damage := range []string{"sequence reset", "nested bucket"} {
		t.Run(damage, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.db")
			r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := 1; i <= 3; i++ {
				if err := r.Report(ctx, "c1", "calls", i, delta); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(ctx); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("outbox"))
				if damage == "nested bucket" {
					_, err := b.CreateBucket([]byte{0, 0, 0, 0, 0, 0, 0, 4})
					return err
				}
				return b.SetSequence(0)
			})
			_ = db.Close()
			if err != nil {
				t.Fatal(err)
			}
			r, err = usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Report(ctx, "c1", "calls", 10, delta); err != nil {
				t.Fatalf("Report after the damage: %v", err)
			}
			if err := r.Close(ctx); err != nil {
				t.Fatal(err)
			}
			fake := newFakeAPI(t, "")
			next := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
			flushAll(t, next)
			if got := fake.sum(pair{"c1", "calls"}); got != 16 {
				t.Errorf("kelviq's sum %d, want 16 (1+2+3+10): a report was lost", got)
			}
		})
	}
}

// Stats count original reports exactly: a merged request that failed once
// and then went through counts each of its reports once as retried, once
// as sent, and all but one as coalesced; a SET that a negative DELTA
// cannot join splits the pair into two requests.
func TestStatsCountOriginalReports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	down, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		if err := down.Report(ctx, "c1", "calls", i, delta); err != nil {
			t.Fatal(err)
		}
	}
	for _, rep := range []struct {
		v int
		b api.ReportUsageRequestBehaviour
	}{{1, set}, {-2, delta}, {5, delta}} {
		if err := down.Report(ctx, "c1", "seats", rep.v, rep.b); err != nil {
			t.Fatal(err)
		}
	}
	if err := down.Close(ctx); err != nil {
		t.Fatal(err)
	}
	fake := newFakeAPI(t, "")
	failed := map[pair]bool{}
	fake.setAnswer(func(_ int, g got) (int, http.Header, bool) {
		if !failed[g.pair] {
			failed[g.pair] = true
			return http.StatusServiceUnavailable, nil, false
		}
		return http.StatusOK, nil, true
	})
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path), usage.WithBackoff(time.Millisecond, time.Millisecond))
	flushAll(t, r)
	s := r.Stats()
	// calls: 10 reports, one request refused then one taken. seats: SET 1
	// alone (refused, then taken), then DELTA -2+5 merged.
	want := usage.Stats{Stored: 0, Sent: 13, Coalesced: 9 + 1, Retried: 10 + 1, Queued: 0}
	if s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	if got := fake.sum(pair{"c1", "calls"}); got != 55 {
		t.Errorf("calls: sum %d, want 55", got)
	}
	if got := fake.sum(pair{"c1", "seats"}); got != 4 {
		t.Errorf("seats: sum %d, want 4", got)
	}
}
