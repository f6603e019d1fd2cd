package usage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
	bolt "go.etcd.io/bbolt"
)

func TestReportWithDoneContextStoresNothing(t *testing.T) {
	r := newReporter(t, newClient(t, "http://"+deadAddr(t)), usage.WithMemory())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Report(ctx, "c1", "seats", 1, delta); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if s := r.Stats(); s.Stored != 0 || s.Queued != 0 {
		t.Errorf("stats = %+v, want nothing stored", s)
	}
}

// Reports racing with Close are either stored (and delivered by the next
// start) or refused with ErrClosed: none is lost or half-stored.
func TestCloseRacingWithReports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	down := newClient(t, "http://"+deadAddr(t))
	r, err := usage.NewReporter(down, usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	var stored atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for {
				err := r.Report(context.Background(), "c1", fmt.Sprintf("f%d", g), 1, delta)
				if errors.Is(err, usage.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				stored.Add(1)
			}
		})
	}
	time.Sleep(30 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	fake := newFakeAPI(t, "")
	next := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
	flushAll(t, next)
	total := 0
	for g := range 8 {
		total += fake.sum(pair{"c1", fmt.Sprintf("f%d", g)})
	}
	if int64(total) != stored.Load() || total == 0 {
		t.Errorf("delivered %d, acknowledged %d", total, stored.Load())
	}
}

// A record that cannot be read (a damaged file) is moved aside at start;
// the others are delivered. (One of a newer format stays in place:
// TestNewerFormatRecordIsLeftForTheNewerVersion.)
func TestUnreadableRecordGoesToTheDeadLetters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if err := r.Report(context.Background(), "c1", "seats", i, delta); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("outbox")).Put([]byte{0, 0, 0, 0, 0, 0, 0, 2}, []byte{1, 7, 2, 3})
	})
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	fake := newFakeAPI(t, "")
	next := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path),
		usage.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	flushAll(t, next)
	if got := fake.sum(pair{"c1", "seats"}); got != 4 {
		t.Errorf("sum %d, want 4 (reports 1 and 3)", got)
	}
	dl, err := next.DeadLetters()
	if err != nil || len(dl) != 1 || !strings.Contains(dl[0].Error, "corrupt") || dl[0].Reason != usage.ReasonUnreadable {
		t.Errorf("dead letters = %+v, %v", dl, err)
	}
	if !strings.Contains(logs.String(), "unreadable records") {
		t.Errorf("nothing logged about the unreadable record: %s", logs.String())
	}
}

// Failures are logged with the pair, never with the key.
func TestLogsNameThePairAndNeverTheKey(t *testing.T) {
	fake := newFakeAPI(t, "")
	fake.setAnswer(func(n int, _ got) (int, http.Header, bool) {
		if n == 0 {
			return http.StatusServiceUnavailable, nil, false
		}
		return http.StatusOK, nil, true
	})
	var logs bytes.Buffer
	var mu sync.Mutex
	h := slog.NewTextHandler(&lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithMemory(), usage.WithLogger(slog.New(h)))
	if err := r.Report(context.Background(), "cust-log", "seats", 1, delta); err != nil {
		t.Fatal(err)
	}
	flushAll(t, r)
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "will retry") || !strings.Contains(out, "cust-log") || !strings.Contains(out, "503") {
		t.Errorf("log lacks the retry: %s", out)
	}
	if strings.Contains(out, "sk_test_usage") {
		t.Errorf("log holds the key: %s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A file that is not an outbox is refused, and left as it was.
func TestNotAnOutboxFileIsRefusedAndLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := bytes.Repeat([]byte("not a bbolt file\n"), 1000)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err == nil {
		_ = r.Close(context.Background())
		t.Fatal("NewReporter opened a text file")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want it to name the file", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Error("the file was changed")
	}
}
