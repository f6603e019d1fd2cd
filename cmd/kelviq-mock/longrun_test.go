package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/kelviqtest"
)

// longRunEnv, set to a count (e.g. 1000000), makes TestBinaryLongRunBounded
// and BenchmarkMockLongRunRSS feed that many requests.
const longRunEnv = "KELVIQ_MOCK_LONG_RUN"

func longRunCount(tb testing.TB, def int) int {
	v := os.Getenv(longRunEnv)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: not a positive count", longRunEnv, v)
	}
	return n
}

// feed sends n requests to the binary from 8 connections, alternating a
// createCustomer of a new customer with 3 KiB of metadata and a reportUsage
// of a new (customer, feature) pair, so that every kind of limit is
// reached. It fails on any other answer than the operation's success.
func feed(tb testing.TB, base string, n int) {
	tb.Helper()
	note := strings.Repeat("n", 3<<10)
	var next, failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			var body bytes.Buffer
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				body.Reset()
				path, want := "/customers/", 201
				if i%2 == 0 {
					fmt.Fprintf(&body, `{"customerId":"lr-%d","name":"Customer %d","metadata":{"note":"%s","i":"%d"}}`, i, i, note, i)
				} else {
					path, want = "/report/usage/", 200
					fmt.Fprintf(&body, `{"customerId":"lr-%d","featureId":"feature-%d","behaviour":"DELTA","value":1}`, i, i%13)
				}
				req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body.Bytes()))
				req.Header.Set("Authorization", "Bearer "+kelviqtest.ServerKey)
				req.Header.Set("Content-Type", "application/json")
				res, err := c.Do(req)
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != want {
						err = fmt.Errorf("POST %s: %d", path, res.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		tb.Fatalf("%d of %d requests failed, the first: %v", failed.Load(), n, first.Load())
	}
}

// binaryStats reads GET /__kelviqtest/stats.
func binaryStats(tb testing.TB, base string) kelviqtest.Stats {
	tb.Helper()
	res, err := http.Get(base + "/__kelviqtest/stats")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var st kelviqtest.Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		tb.Fatal(err)
	}
	return st
}

// checkCaps fails when the binary holds more than its limits, or dropped
// fewer than n requests' worth of objects should have made it.
func checkCaps(tb testing.TB, st kelviqtest.Stats, n int) {
	tb.Helper()
	l := st.Limits
	customers, pairs := (n+1)/2, n/2
	if st.Stored.Customers > l.Customers || st.Stored.UsagePairs > l.UsagePairs || st.Stored.Requests > l.Requests ||
		st.StateBytes > l.StateBytes || st.RequestBytes > l.RequestBytes {
		tb.Errorf("over a limit: %+v", st)
	}
	if st.Stored.Customers+st.Dropped.Customers != customers || st.Stored.UsagePairs+st.Dropped.UsagePairs != pairs ||
		st.Stored.Requests+st.Dropped.Requests != n {
		tb.Errorf("held + dropped do not add up to what was sent (%d customers, %d pairs, %d requests): %+v", customers, pairs, n, st)
	}
}

// A long-running kelviq-mock, recording on (-admin), fed many requests
// keeps every cap, and its peak RSS stays within twice its documented
// bound of live memory (the garbage collector lets the heap grow to twice
// the live data by default) above what it takes idle. 20,000 requests
// against smaller limits by default; KELVIQ_MOCK_LONG_RUN=1000000 for the
// million against the defaults (minutes on two cores).
func TestBinaryLongRunBounded(t *testing.T) {
	n := longRunCount(t, 20_000)
	args := []string{"-quiet", "-admin"}
	if os.Getenv(longRunEnv) == "" {
		args = append(args, "-max-customers", "2000", "-max-usage-pairs", "3000", "-max-recorded", "3000",
			"-max-state-bytes", strconv.Itoa(4<<20), "-max-recorded-bytes", strconv.Itoa(4<<20))
	}
	p := startBinary(t, args...)
	pid := p.cmd.Process.Pid
	idle := procKB(t, pid, "VmRSS")
	start := time.Now()
	feed(t, p.base, n)
	elapsed := time.Since(start)
	st := binaryStats(t, p.base)
	checkCaps(t, st, n)
	peak := procKB(t, pid, "VmHWM")
	live := st.Limits.StateBytes + st.Limits.RequestBytes + 16<<20 // + the body budget
	bound := int64(idle)<<10 + 2*live
	t.Logf("%d requests in %v: idle RSS %.1f MB, peak RSS (VmHWM) %.1f MB, bound %.1f MB; stored %+v, dropped %+v, %.1f MB state, %.1f MB recorded",
		n, elapsed.Round(time.Millisecond), float64(idle)/1024, float64(peak)/1024, mb(bound), st.Stored, st.Dropped, mb(st.StateBytes), mb(st.RequestBytes))
	if int64(peak)<<10 > bound {
		t.Errorf("peak RSS %.1f MB over the bound %.1f MB", float64(peak)/1024, mb(bound))
	}
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// BenchmarkMockLongRunRSS is the peak RSS (VmHWM) of kelviq-mock with the
// default limits and -admin, fed 100,000 requests per run
// (KELVIQ_MOCK_LONG_RUN=1000000 for a million), as in TestBinaryLongRunBounded.
func BenchmarkMockLongRunRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc")
	}
	n := longRunCount(b, 100_000)
	for b.Loop() {
		p := startBinary(b, "-quiet", "-admin")
		pid := p.cmd.Process.Pid
		idle := procKB(b, pid, "VmRSS")
		start := time.Now()
		feed(b, p.base, n)
		elapsed := time.Since(start)
		st := binaryStats(b, p.base)
		checkCaps(b, st, n)
		b.ReportMetric(float64(idle)/1024, "idle-RSS-MB")
		b.ReportMetric(float64(procKB(b, pid, "VmHWM"))/1024, "peak-RSS-MB")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s")
		b.ReportMetric(mb(st.StateBytes), "state-MB")
		b.ReportMetric(mb(st.RequestBytes), "recorded-MB")
	}
}
