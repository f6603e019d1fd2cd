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

// BenchmarkReportDurable is the group commit: 8 goroutines report as fast
// as they can, each call returning once its report is synced, with kelviq
// down so that nothing is deleted meanwhile ("reporters=8"). Beside it, in
// the same run: one reporter (one report per commit, "baseline"), bbolt's
// own db.Batch with its defaults under the same 8 goroutines
// ("bolt-Batch"), and in every one of them the disk's own sync
// (fsync-µs) and a bare bbolt commit of one record (bolt-commit-µs).
func BenchmarkReportDurable(b *testing.B) {
	b.Run("baseline", func(b *testing.B) { benchmarkReportDurable(b, 1) })
	b.Run("reporters=8", func(b *testing.B) { benchmarkReportDurable(b, 8) })
	b.Run("bolt-Batch", benchmarkBoltBatch)
	b.Run("reporters=8,api-up", func(b *testing.B) { benchmarkReportDurableUp(b, 8, 8) })
	b.Run("reporters=8,api-up,pairs=10000", func(b *testing.B) { benchmarkReportDurableUp(b, 8, 10_000) })
}

func benchmarkReportDurable(b *testing.B, reporters int) {
	benchmarkReport(b, reporters, reporters, "http://"+deadAddr(b), nil)
}

// benchmarkReportDurableUp is the same with kelviq up (a loopback fake):
// the sender's requests and deletes run alongside, over pairs (customer,
// feature) pairs.
func benchmarkReportDurableUp(b *testing.B, reporters, pairs int) {
	fake := newFakeAPI(b, "")
	benchmarkReport(b, reporters, pairs, fake.srv.URL, func(r *usage.Reporter) {
		if n := len(fake.received()); n > 0 {
			b.ReportMetric(float64(r.Stats().Sent)/float64(n), "reports/request")
		}
	})
}

// benchmarkReport runs reporters goroutines reporting to one Reporter of
// url, over pairs (customer, feature) pairs (one per goroutine when pairs
// is reporters); done, when set, sees the Reporter before it is closed.
func benchmarkReport(b *testing.B, reporters, pairs int, url string, done func(*usage.Reporter)) {
	customers := make([]string, pairs)
	for i := range customers {
		customers[i] = "cust-" + strconv.Itoa(i)
	}
	dir := b.TempDir()
	sync1 := fsyncTime(b, dir, 200)
	commit1 := boltCommitTime(b, dir, 200)
	r, err := usage.NewReporter(newClient(b, url), usage.WithPath(filepath.Join(dir, "outbox.db")),
		usage.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close(context.Background())
	per := b.N/reporters + 1
	lat, elapsed := runConcurrently(b, reporters, per, func(g, i int) error {
		if pairs == reporters {
			return r.Report(context.Background(), "bench", "f"+strconv.Itoa(g), i, "DELTA")
		}
		return r.Report(context.Background(), customers[(g*per+i)%pairs], "calls", i, "DELTA")
	})
	reportLatencies(b, lat, elapsed, sync1)
	b.ReportMetric(us(commit1), "bolt-commit-µs")
	commits, total := usage.CommitStats(r)
	b.ReportMetric(float64(reporters*per)/float64(commits), "reports/commit")
	b.ReportMetric(us(total/time.Duration(commits)), "commit-µs")
	if done != nil {
		done(r)
	}
}

// reportLatencies reports throughput and latency percentiles beside the
// disk's sync time.
func reportLatencies(b *testing.B, lat [][]time.Duration, elapsed, sync1 time.Duration) {
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "reports/s")
	b.ReportMetric(us(all[len(all)/2]), "p50-µs")
	b.ReportMetric(us(all[len(all)*99/100]), "p99-µs")
	b.ReportMetric(us(sync1), "fsync-µs")
	b.ReportMetric(float64(all[len(all)/2])/float64(sync1), "p50/fsync")
}

// benchmarkBoltBatch is what the group commit replaces: 8 goroutines each
// storing one record per db.Batch call (default MaxBatchDelay 10 ms,
// MaxBatchSize 1000).
func benchmarkBoltBatch(b *testing.B) {
	dir := b.TempDir()
	sync1 := fsyncTime(b, dir, 200)
	db, err := bolt.Open(filepath.Join(dir, "batch.db"), 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const reporters = 8
	lat, elapsed := runConcurrently(b, reporters, b.N/reporters+1, func(int, int) error {
		return db.Batch(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("outbox"))
			if err != nil {
				return err
			}
			seq, _ := bk.NextSequence()
			return bk.Put(binary.BigEndian.AppendUint64(nil, seq), []byte("0123456789012345678901234"))
		})
	})
	reportLatencies(b, lat, elapsed, sync1)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// runConcurrently runs do(g, i) for i < per in each of n goroutines g,
// timed from b.ResetTimer to the last call's end, and returns the latency
// of every call.
func runConcurrently(b *testing.B, n, per int, do func(g, i int) error) (lat [][]time.Duration, elapsed time.Duration) {
	lat = make([][]time.Duration, n)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range n {
		wg.Go(func() {
			l := make([]time.Duration, 0, per)
			for i := range per {
				t0 := time.Now()
				if err := do(g, i); err != nil {
					b.Error(err)
					return
				}
				l = append(l, time.Since(t0))
			}
			lat[g] = l
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	b.StopTimer()
	return lat, elapsed
}
