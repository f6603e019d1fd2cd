package redisoutbox_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

// BenchmarkRedisReporter: 8 goroutines call Report as fast as they can on
// one Reporter whose outbox is on a redis-server of this machine with
// appendonly yes and appendfsync always (each acknowledged report is on
// disk), spreading their reports over 10,000 or 8 (customer, feature)
// pairs, with kelviq up (a loopback fake in this process, so the sender's
// claims, requests and deletes run alongside) or down; "everysec" is the
// 10,000 pairs with appendfsync everysec instead. Beside them, in the
// same run and against the same kind of server, the baselines: raw RPUSH
// of one record from 8 clients, one round trip each ("baseline")
// and in pipelines of 64 ("rpush-P64"): what Redis with this disk
// gives at best.
func BenchmarkRedisReporter(b *testing.B) {
	b.Run("pairs=10000,api-up", func(b *testing.B) { benchReporter(b, 10_000, true, "always") })
	b.Run("pairs=8,api-up", func(b *testing.B) { benchReporter(b, 8, true, "always") })
	b.Run("pairs=10000,api-down", func(b *testing.B) { benchReporter(b, 10_000, false, "always") })
	b.Run("pairs=10000,api-up,everysec", func(b *testing.B) { benchReporter(b, 10_000, true, "everysec") })
	b.Run("baseline", func(b *testing.B) { benchRPush(b, 1) })
	b.Run("rpush-P64", func(b *testing.B) { benchRPush(b, 64) })
}

const benchReporters = 8

func benchReporter(b *testing.B, pairs int, up bool, fsync string) {
	srv := redistest.StartPersistent(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 32})
	defer rdb.Close()
	if err := rdb.ConfigSet(context.Background(), "appendfsync", fsync).Err(); err != nil {
		b.Fatal(err)
	}
	o, err := redisoutbox.New(rdb, "bench:")
	if err != nil {
		b.Fatal(err)
	}
	url := deadURL(b)
	var fake *fakeAPI
	if up {
		fake = newFakeAPI(b)
		url = fake.srv.URL
	}
	r, err := usage.NewReporter(newKelviq(b, url, goodKey, "bench"), usage.WithOutbox(o))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close(context.Background())
	per := b.N/benchReporters + 1
	cpu0, rcpu0 := processCPU(), redisCPU(b, rdb)
	lat, elapsed := runConcurrently(b, benchReporters, per, func(g, i int) error {
		k := (g*per + i) % pairs
		return r.Report(context.Background(), "c"+strconv.Itoa(k), "f", 1, api.ReportUsageRequestBehaviourDELTA)
	})
	cpu, rcpu := processCPU()-cpu0, redisCPU(b, rdb)-rcpu0
	reportLatencies(b, lat, elapsed)
	n := float64(benchReporters * per)
	b.ReportMetric(float64(cpu.Microseconds())/n, "proc-cpu-µs/report")
	b.ReportMetric(float64(rcpu.Microseconds())/n, "redis-cpu-µs/report")
	if up {
		st := r.Stats()
		if reqs := len(fake.received()); reqs > 0 {
			b.ReportMetric(float64(st.Sent)/float64(reqs), "reports/request")
		}
		b.ReportMetric(float64(st.Sent)/n, "sent-during")
	}
}

// benchRPush is the baseline: 8 clients each RPUSH a record of the size a
// Reporter stores, in pipelines of depth p.
func benchRPush(b *testing.B, p int) {
	srv := redistest.StartPersistent(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 32})
	defer rdb.Close()
	rec := "0123456|1765000000000000000|D1"
	per := b.N/(benchReporters*p) + 1
	lat, elapsed := runConcurrently(b, benchReporters, per, func(g, i int) error {
		key := "{bench}:q:" + strconv.Itoa(g)
		if p == 1 {
			return rdb.RPush(context.Background(), key, rec).Err()
		}
		pl := rdb.Pipeline()
		for range p {
			pl.RPush(context.Background(), key, rec)
		}
		_, err := pl.Exec(context.Background())
		return err
	})
	all := slices.Concat(lat...)
	b.ReportMetric(float64(len(all)*p)/elapsed.Seconds(), "reports/s")
	slices.Sort(all)
	b.ReportMetric(us(all[len(all)/2]), "p50-µs")
}

// processCPU is the CPU this process has used (user + system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the CPU the server has used (INFO cpu).
func redisCPU(b *testing.B, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func reportLatencies(b *testing.B, lat [][]time.Duration, elapsed time.Duration) {
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "reports/s")
	b.ReportMetric(us(all[len(all)/2]), "p50-µs")
	b.ReportMetric(us(all[len(all)*99/100]), "p99-µs")
}

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
