package usage_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	kelviqapi "github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/usage"
)

// openOutbox opens path with a Reporter whose server is down and returns
// its Stats, closing it; err is NewReporter's.
func openOutbox(t *testing.T, path string) (usage.Stats, error) {
	t.Helper()
	st, _, err := openOutboxLog(t, path)
	return st, err
}

// openOutboxLog is openOutbox, also returning what the Reporter logged.
func openOutboxLog(t *testing.T, path string) (usage.Stats, string, error) {
	t.Helper()
	var log bytes.Buffer
	st, err := func() (usage.Stats, error) {
		logger := slog.New(slog.NewTextHandler(&log, nil))
		r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path), usage.WithLogger(logger))
		if err != nil {
			return usage.Stats{}, err
		}
		st := r.Stats()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_ = r.Close(ctx)
		return st, nil
	}()
	return st, log.String(), err
}

func asides(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + ".corrupt-*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWholeOutboxIsLeftUntouched(t *testing.T) {
	orig := writeRealOutbox(t)
	path := writeFile(t, orig)
	if err := usage.PrepareOutboxFile(path); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Error("the check changed a whole file")
	}
	if a := asides(t, path); len(a) != 0 {
		t.Errorf("a whole file was kept aside as %v", a)
	}
	st, err := openOutbox(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Queued != realOutboxReports {
		t.Errorf("Queued = %d, want %d", st.Queued, realOutboxReports)
	}
	if a := asides(t, path); len(a) != 0 {
		t.Errorf("a whole file was kept aside as %v", a)
	}
}

func TestEmptyOutboxFileStartsFresh(t *testing.T) {
	path := writeFile(t, nil)
	st, err := openOutbox(t, path)
	if err != nil {
		t.Fatalf("a zero-length file: %v", err)
	}
	if st.Queued != 0 {
		t.Errorf("Queued = %d", st.Queued)
	}
	if a := asides(t, path); len(a) != 0 {
		t.Errorf("an empty file was kept aside as %v", a)
	}
}

// A file no meta page says is bbolt is not ours: refused, left as it is.
func TestForeignFileIsRefused(t *testing.T) {
	for name, b := range map[string][]byte{
		"text":          []byte(strings.Repeat("not an outbox, my notes\n", 1000)),
		"short text":    []byte("hello"),
		"4 KiB zeros":   make([]byte, 4096),
		"1 MiB zeros":   make([]byte, 1<<20),
		"newer version": newerVersion(t, writeRealOutbox(t)),
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, b)
			_, err := openOutbox(t, path)
			if !errors.Is(err, usage.ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want ErrCorrupt naming the file", err)
			}
			if name == "newer version" && !strings.Contains(err.Error(), "version 3") {
				t.Errorf("err = %v, want it to name the format version", err)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, b) {
				t.Error("the refused file was changed")
			}
			if a := asides(t, path); len(a) != 0 {
				t.Errorf("kept aside as %v", a)
			}
		})
	}
}

// newerVersion returns b with both meta pages saying bbolt format 3,
// checksums valid.
func newerVersion(t *testing.T, b []byte) []byte {
	b = bytes.Clone(b)
	for _, off := range []int{16, 4096 + 16} {
		m := b[off : off+64]
		binary.LittleEndian.PutUint32(m[4:], 3)
		h := fnv.New64a()
		h.Write(m[:56])
		binary.LittleEndian.PutUint64(m[56:], h.Sum64())
	}
	return b
}

func TestOutboxPathThatIsNoFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := openOutbox(t, dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("a directory: err = %v, want one saying it is a directory", err)
	}
}

// zeroPage returns b with page id's header zeroed.
func zeroPage(b []byte, ps int, id uint64) []byte {
	b = bytes.Clone(b)
	clear(b[int(id)*ps : int(id)*ps+16])
	return b
}

// A damaged leaf costs its records only; the damaged file is kept aside,
// byte for byte, each time, under a name not used before.
func TestDamagedLeafIsSalvaged(t *testing.T) {
	orig := writeRealOutbox(t)
	pm, err := usage.MapOutbox(writeFile(t, orig))
	if err != nil {
		t.Fatal(err)
	}
	var leaf uint64
	for id := range pm.Leaves {
		leaf = max(leaf, id)
	}
	damaged := zeroPage(orig, pm.PageSize, leaf)
	if v, _ := usage.CheckBoltBytes(damaged); v != "damaged" {
		t.Fatalf("the checker says %q of a file with a zeroed leaf", v)
	}
	path := writeFile(t, damaged)
	want := int64(realOutboxReports - len(pm.Leaves[leaf]))
	for round := 1; round <= 2; round++ {
		st, log, err := openOutboxLog(t, path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log, "lost_pages=1") || !strings.Contains(log, "records=2") || !strings.Contains(log, "kept_at=") {
			t.Errorf("round %d: the salvage was not logged with its counts: %s", round, log)
		}
		if st.Queued != want {
			t.Errorf("round %d: Queued = %d, want %d (%d lost on page %d)", round, st.Queued, want, len(pm.Leaves[leaf]), leaf)
		}
		a := asides(t, path)
		if len(a) != round {
			t.Fatalf("round %d: kept aside: %v", round, a)
		}
		for _, f := range a {
			if kept, _ := os.ReadFile(f); !bytes.Equal(kept, damaged) {
				t.Errorf("%s is not the damaged file", f)
			}
		}
		// The fresh file is whole: opening it again keeps nothing aside.
		if b, _ := os.ReadFile(path); true {
			if v, why := usage.CheckBoltBytes(b); v != "ok" {
				t.Fatalf("the salvaged file: %s (%v)", v, why)
			}
		}
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// A truncated file keeps the records of the pages before the cut.
func TestTruncatedOutboxIsSalvaged(t *testing.T) {
	orig := writeRealOutbox(t)
	pm, err := usage.MapOutbox(writeFile(t, orig))
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for id := range pm.Leaves {
		last = max(last, id)
	}
	for s := range pm.Structural {
		if s > last {
			t.Skipf("page %d of the tree comes after the last leaf", s)
		}
	}
	path := writeFile(t, orig[:int(last)*pm.PageSize+100])
	st, err := openOutbox(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(realOutboxReports - len(pm.Leaves[last])); st.Queued != want {
		t.Errorf("Queued = %d, want %d", st.Queued, want)
	}
	if a := asides(t, path); len(a) != 1 {
		t.Errorf("kept aside: %v", a)
	}
}

// The dead letters of a damaged file are salvaged with their reasons.
func TestSalvageKeepsDeadLetters(t *testing.T) {
	api := newFakeAPI(t, "")
	api.setAnswer(func(_ int, g got) (int, http.Header, bool) {
		if g.customer == "refused" {
			return http.StatusUnprocessableEntity, nil, false
		}
		return http.StatusServiceUnavailable, nil, false
	})
	path := filepath.Join(t.TempDir(), "outbox.db")
	r, err := usage.NewReporter(newClient(t, api.srv.URL), usage.WithPath(path), usage.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		c := "kept"
		if i%20 == 0 {
			c = "refused"
		}
		if err := r.Report(context.Background(), c, "f"+strconv.Itoa(i), 1, kelviqapi.ReportUsageRequestBehaviourDELTA); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := r.DeadLetters()
		if err != nil {
			t.Fatal(err)
		}
		if len(d) == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters after 20 s, want 30", len(d))
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = r.Close(ctx)
	api.srv.Close()

	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := usage.MapOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	var leaf uint64
	for id := range pm.Leaves {
		leaf = max(leaf, id)
	}
	if err := os.WriteFile(path, zeroPage(orig, pm.PageSize, leaf), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	if q, want := r.Stats().Queued, int64(570-len(pm.Leaves[leaf])); q != want {
		t.Errorf("Queued = %d, want %d", q, want)
	}
	d, err := r.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 30 {
		t.Fatalf("%d dead letters after the salvage, want 30", len(d))
	}
	for _, l := range d {
		if l.Report.CustomerID != "refused" || !strings.Contains(l.Reason+l.Error, "422") {
			t.Errorf("dead letter %+v", l)
		}
	}
	if a := asides(t, path); len(a) != 1 {
		t.Errorf("kept aside: %v", a)
	}
}
