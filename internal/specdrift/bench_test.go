package specdrift_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

// BenchmarkDocsCheck runs a whole docs-mode check (index, 64 page twins,
// published spec, comparison, cross-check) against a loopback site that
// delays each page by 50 ms: concurrently (8 pages at a time) and
// sequentially (1), in the same run. Besides time and allocations it reports
// the peak live heap seen during the iterations (peak-heap-MB).
//
//	go test -run '^$' -bench BenchmarkDocsCheck -benchtime=3x ./internal/specdrift/
func BenchmarkDocsCheck(b *testing.B) {
	spec := currentSpec(b)
	site, url := newSite(b, spec, docsite.Options{})
	site.PageDelay = 50 * time.Millisecond
	for _, bc := range []struct {
		name        string
		concurrency int
	}{{"concurrent", 8}, {"sequential", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := specdrift.Config{Vendored: spec, VendoredSource: "openapi.json", DocsURL: url, Docs: specdrift.DocsOptions{
				Concurrency: bc.concurrency,
				Fetch:       specdrift.FetchOptions{Timeout: 10 * time.Second},
				Deadline:    time.Minute,
			}}
			b.ReportAllocs()
			peak := watchHeap()
			for b.Loop() {
				res, err := specdrift.Check(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				if res.Report.ExitCode() != 0 || res.Report.Docs.Pages != 64 {
					b.Fatalf("exit %d, %d pages", res.Report.ExitCode(), res.Report.Docs.Pages)
				}
			}
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/64, "ms/page")
		})
	}
}

// watchHeap samples the live heap (runtime/metrics, cheap, no stop-the-world)
// every millisecond until the returned function is called, which returns the
// peak in bytes.
func watchHeap() func() uint64 {
	runtime.GC()
	var (
		peak atomic.Uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak.Load() {
			peak.Store(v)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		read()
		return peak.Load()
	}
}
