package usage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// BenchmarkSenderCPU is the background sender's cost: b.N reports over
// pairs (customer, feature) pairs are stored first (straight into the
// outbox file), then a Reporter on the file delivers them to a loopback
// server that answers at once, timed from its start until nothing is
// queued. cpu-µs/report and cpu-µs/request are the process's CPU time
// (getrusage: the sender, the client and the loopback server together)
// over that time; the sender's scheduling is what may grow with the
// number of pairs, and a request's cost should not.
func BenchmarkSenderCPU(b *testing.B) {
	for _, pairs := range []int{8, 10_000} {
		b.Run("pairs="+strconv.Itoa(pairs), func(b *testing.B) { benchmarkSenderCPU(b, pairs) })
	}
}

func benchmarkSenderCPU(b *testing.B, pairs int) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	path := filepath.Join(b.TempDir(), "outbox.db")
	o, err := usage.OpenFileOutbox(path)
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]usage.Report, 0, 4096)
	now := time.Now()
	for i := range b.N {
		batch = append(batch, usage.Report{CustomerID: "cust-" + strconv.Itoa(i%pairs), FeatureID: "calls", Value: 1, Behaviour: delta, StoredAt: now})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := o.Append(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := o.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0, start := cpuTime(), time.Now()
	r, err := usage.NewReporter(newClient(b, srv.URL), usage.WithPath(path))
	if err != nil {
		b.Fatal(err)
	}
	for r.Stats().Queued > 0 {
		time.Sleep(2 * time.Millisecond)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if err := r.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	if s := r.Stats(); s.Sent != int64(b.N) {
		b.Fatalf("sent %d of %d", s.Sent, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "delivered/s")
	b.ReportMetric(us(cpu)/float64(b.N), "cpu-µs/report")
	b.ReportMetric(us(cpu)/float64(requests.Load()), "cpu-µs/request")
	b.ReportMetric(float64(b.N)/float64(requests.Load()), "reports/request")
}

// BenchmarkOutboxClaim is the sender's work per lease without the
// request: Claim one due pair, Done with its record delivered, and Append
// the pair's next report, while pairs pairs are queued. Its cost should
// not grow with the number of pairs (a heap of due times, not a scan).
func BenchmarkOutboxClaim(b *testing.B) {
	for _, kind := range []string{"memory", "file"} {
		for _, pairs := range []int{8, 10_000} {
			b.Run(kind+",pairs="+strconv.Itoa(pairs), func(b *testing.B) {
				var o usage.Outbox = usage.NewMemoryOutbox()
				if kind == "file" {
					fo, err := usage.OpenFileOutbox(filepath.Join(b.TempDir(), "outbox.db"))
					if err != nil {
						b.Fatal(err)
					}
					o = fo
				}
				defer o.Close()
				ctx := context.Background()
				now := time.Now()
				reps := make([]usage.Report, pairs)
				for i := range reps {
					reps[i] = usage.Report{CustomerID: "cust-" + strconv.Itoa(i), FeatureID: "calls", Value: 1, Behaviour: delta, StoredAt: now}
				}
				if err := o.Append(ctx, reps); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					ls, _, err := o.Claim(ctx, now, 1, 100)
					if err != nil || len(ls) != 1 {
						b.Fatalf("claim: %d, %v", len(ls), err)
					}
					l := ls[0]
					if err := o.Done(ctx, l, len(l.Records), time.Time{}); err != nil {
						b.Fatal(err)
					}
					if err := o.Append(ctx, []usage.Report{l.Records[0].Report}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
