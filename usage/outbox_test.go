package usage_test

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
	bolt "go.etcd.io/bbolt"
)

func TestWithOutboxExcludesTheOthers(t *testing.T) {
	c := newClient(t, "http://"+deadAddr(t))
	path := filepath.Join(t.TempDir(), "outbox.db")
	for _, tc := range []struct {
		name string
		opts []usage.Option
		want string
	}{
		{"with path", []usage.Option{usage.WithOutbox(usage.NewMemoryOutbox()), usage.WithPath(path)}, "WithOutbox excludes WithPath and WithMemory"},
		{"with memory", []usage.Option{usage.WithMemory(), usage.WithOutbox(usage.NewMemoryOutbox())}, "WithOutbox excludes WithPath and WithMemory"},
		{"nil", []usage.Option{usage.WithOutbox(nil)}, "WithOutbox(nil)"},
	} {
		r, err := usage.NewReporter(c, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, %v; want an error saying %q", tc.name, r, err, tc.want)
		}
	}
}

// The Reporter closes only the outboxes it opened: one the caller gave it
// stays open for the caller (and its next Reporter).
func TestCallersOutboxIsNotClosed(t *testing.T) {
	fake := newFakeAPI(t, "")
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := usage.OpenFileOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ctx := context.Background()
	for i := range 2 {
		r, err := usage.NewReporter(newClient(t, fake.srv.URL), usage.WithOutbox(o))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Report(ctx, "c1", "calls", 1, delta); err != nil {
			t.Fatalf("Reporter %d: %v", i, err)
		}
		if err := r.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.sum(pair{"c1", "calls"}); got != 2 {
		t.Errorf("sum %d, want 2", got)
	}
	// Still the caller's: a second opener is refused, naming the file.
	if _, err := usage.OpenFileOutbox(path); !errors.Is(err, usage.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("second OpenFileOutbox: %v; want ErrLocked naming %s", err, path)
	}
}

// A Report the outbox cannot store fails with ErrUnavailable, never a
// silent drop.
func TestReportFailsWithErrUnavailable(t *testing.T) {
	for _, name := range []string{"file", "memory"} {
		t.Run(name, func(t *testing.T) {
			var o usage.Outbox = usage.NewMemoryOutbox()
			if name == "file" {
				fo, err := usage.OpenFileOutbox(filepath.Join(t.TempDir(), "outbox.db"))
				if err != nil {
					t.Fatal(err)
				}
				o = fo
			}
			r := newReporter(t, newClient(t, "http://"+deadAddr(t)), usage.WithOutbox(o))
			ctx := context.Background()
			if err := r.Report(ctx, "c1", "calls", 1, delta); err != nil {
				t.Fatal(err)
			}
			if err := o.Close(); err != nil { // the storage goes away under the Reporter
				t.Fatal(err)
			}
			err := r.Report(ctx, "c1", "calls", 1, delta)
			if !errors.Is(err, usage.ErrUnavailable) {
				t.Errorf("Report on a closed outbox: %v; want ErrUnavailable", err)
			}
			if s := r.Stats(); s.Stored != 1 {
				t.Errorf("stats %+v; want 1 stored", s)
			}
		})
	}
}

// Dead letters written by the first format (the reason's text after the
// record) still load, with their reason classed, and can be requeued.
func TestOldFormatDeadLettersLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"kelviq: reportUsage (POST /report/usage/): 401 Unauthorized: bad key",
		"usage: the report may or may not have reached kelviq (AtMostOnce): kelviq: reportUsage: 502 Bad Gateway",
		"kelviq: reportUsage (POST /report/usage/): 302 Found",
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"outbox", "dead", "sending"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		for i, text := range texts {
			rec := []byte{1, 0} // version 1, DELTA
			pk := binary.AppendUvarint(nil, 2)
			pk = append(pk, "c1"...)
			pk = binary.AppendUvarint(pk, 5)
			pk = append(pk, "calls"...)
			rec = binary.AppendUvarint(rec, uint64(len(pk)))
			rec = append(rec, pk...)
			rec = binary.AppendVarint(rec, int64(10+i))
			rec = binary.AppendVarint(rec, time.Now().UnixNano())
			v := binary.AppendUvarint(nil, uint64(len(rec)))
			v = append(v, rec...)
			v = append(v, text...)
			if err := tx.Bucket([]byte("dead")).Put(binary.BigEndian.AppendUint64(nil, uint64(i+1)), v); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("outbox")).SetSequence(3)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	fake := newFakeAPI(t, "")
	r := newReporter(t, newClient(t, fake.srv.URL), usage.WithPath(path))
	dl, err := r.DeadLetters()
	if err != nil || len(dl) != 3 {
		t.Fatalf("dead letters %+v, %v", dl, err)
	}
	for i, want := range []struct {
		reason string
		status int
	}{{"401", 401}, {usage.ReasonUncertain, 0}, {usage.ReasonRedirect, 302}} {
		if d := dl[i]; d.Reason != want.reason || d.Status != want.status || d.Error != texts[i] || d.Report.Value != 10+i || d.Report.FeatureID != "calls" {
			t.Errorf("dead letter %d: %+v; want reason %q, status %d", i, d, want.reason, want.status)
		}
	}
	if s := r.Stats(); s.DeadLetters != 3 {
		t.Errorf("stats %+v; want 3 dead letters", s)
	}
	if n, err := r.RequeueDeadLetters(context.Background(), func(d usage.DeadLetter) bool { return d.Reason == "401" }); n != 1 || err != nil {
		t.Fatalf("requeue: %d, %v", n, err)
	}
	flushAll(t, r)
	if got := fake.sum(pair{"c1", "calls"}); got != 10 {
		t.Errorf("sum %d, want 10", got)
	}
}

// remoteLike hides a MemoryOutbox's local index: the Reporter drives it as
// it drives any other Outbox (no backoff reset in Flush, Stats cached).
type remoteLike struct{ usage.Outbox }

// On an outbox that is not local, Stats reads the Summary the sender
// cached (about once a second), and delivery works the same.
func TestOtherOutboxesAreDrivenTheSameWay(t *testing.T) {
	addr := deadAddr(t)
	o := remoteLike{usage.NewMemoryOutbox()}
	r := newReporter(t, newClient(t, "http://"+addr), usage.WithOutbox(o), usage.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	ctx := context.Background()
	for i := range 3 {
		if err := r.Report(ctx, "c1", "calls", i+1, delta); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats().Queued != 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := r.Stats(); s.Queued != 3 || s.OldestQueued.IsZero() {
		t.Fatalf("stats %+v; want the cached summary to show 3 queued", s)
	}
	fake := newFakeAPI(t, addr)
	for fake.sum(pair{"c1", "calls"}) != 6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := fake.sum(pair{"c1", "calls"}); got != 6 || len(fake.received()) != 1 {
		t.Errorf("sum %d in %d requests; want 6 in one", got, len(fake.received()))
	}
}
