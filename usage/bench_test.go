package usage_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
	bolt "go.etcd.io/bbolt"
)

// fsyncTime measures this disk: the median of n writes of one 4 KiB page
// followed by fdatasync (what a bbolt commit does, twice), in dir.
func fsyncTime(tb testing.TB, dir string, n int) time.Duration {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "fsync.probe"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	times := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		if _, err := f.WriteAt(page, int64(i%16)*4096); err != nil {
			tb.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			tb.Fatal(err)
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[n/2]
}

// boltCommitTime measures the unit a Report waits for: the median of n
// bbolt transactions of one small record each, in a file of dir (two
// writes and two fdatasyncs each).
func boltCommitTime(tb testing.TB, dir string, n int) time.Duration {
	tb.Helper()
	db, err := bolt.Open(filepath.Join(dir, "baseline.db"), 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	times := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return b.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), []byte("0123456789"))
		})
		if err != nil {
			tb.Fatal(err)
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[n/2]
}

// BenchmarkReportDurable8 is the group commit: 8 goroutines report as
// fast as they can, each call returning once its report is synced, with
// kelviq down so nothing is deleted meanwhile. Beside it, the same run
// measures the disk's own sync (fsync-µs), the baseline of every figure.
func BenchmarkReportDurable8(b *testing.B) { benchmarkReportDurable(b, 8) }

// BenchmarkReportDurable1 is one reporter: one report per commit, the
// group commit's baseline.
func BenchmarkReportDurable1(b *testing.B) { benchmarkReportDurable(b, 1) }

func benchmarkReportDurable(b *testing.B, reporters int) {
	dir := b.TempDir()
	sync1 := fsyncTime(b, dir, 200)
	commit1 := boltCommitTime(b, dir, 200)
	r, err := usage.NewReporter(newClient(b, "http://"+deadAddr(b)), usage.WithPath(filepath.Join(dir, "outbox.db")),
		usage.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close(context.Background())
	lat := make([][]time.Duration, reporters)
	var wg sync.WaitGroup
	per := b.N/reporters + 1
	b.ResetTimer()
	start := time.Now()
	for g := range reporters {
		wg.Go(func() {
			l := make([]time.Duration, 0, per)
			feature := "f" + strconv.Itoa(g)
			for i := range per {
				t0 := time.Now()
				if err := r.Report(context.Background(), "bench", feature, i, "DELTA"); err != nil {
					b.Error(err)
					return
				}
				l = append(l, time.Since(t0))
			}
			lat[g] = l
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "reports/s")
	b.ReportMetric(us(all[len(all)/2]), "p50-µs")
	b.ReportMetric(us(all[len(all)*99/100]), "p99-µs")
	b.ReportMetric(us(sync1), "fsync-µs")
	b.ReportMetric(float64(all[len(all)/2])/float64(sync1), "p50/fsync")
	b.ReportMetric(us(commit1), "bolt-commit-µs")
	commits, total := usage.CommitStats(r)
	b.ReportMetric(float64(len(all))/float64(commits), "reports/commit")
	b.ReportMetric(us(total/time.Duration(commits)), "commit-µs")
	b.ReportMetric(0, "ns/op")
}
