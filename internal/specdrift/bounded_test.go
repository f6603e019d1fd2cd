package specdrift_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/internal/specdrift"
	"github.com/kelviq/kelviq-go/internal/specdrift/docsite"
)

// The regression tests of issue 10 item 7: the docs index decides how many
// entries there are, never how many goroutines run or how many requests go
// out, and a redirect never takes the check off the docs host.

// hugeIndex is an llms.txt of size bytes listing links distinct operation
// pages (the is 16 MiB with 300,000).
func hugeIndex(links, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 4096)
	b.WriteString("# Kelviq Documentation\n\n## Docs\n\n")
	perLine := (size - b.Len()) / links
	for i := range links {
		line := fmt.Sprintf("- [P%d](/api-reference/t%d/p%d.md):", i, i%97, i)
		b.WriteString(line + strings.Repeat(" x", max(0, perLine-len(line)-1)/2) + "\n")
	}
	for b.Len() < size {
		b.WriteString("padding line, no entry\n")
	}
	return b.Bytes()
}

// hostileSite serves the huge index and answers every page slowly with 404,
// recording how many page requests arrived and the most in flight at once.
// With stopAfter set it calls stop when that many pages were requested.
type hostileSite struct {
	index      []byte
	pageDelay  time.Duration
	stopAfter  int64
	stop       func()
	pages      atomic.Int64
	inFlight   atomic.Int64
	maxInFlght atomic.Int64
}

func (h *hostileSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/llms.txt":
		_, _ = w.Write(h.index)
	case strings.HasSuffix(r.URL.Path, ".md"):
		if h.pages.Add(1) == h.stopAfter {
			h.stop()
		}
		n := h.inFlight.Add(1)
		defer h.inFlight.Add(-1)
		for m := h.maxInFlght.Load(); n > m && !h.maxInFlght.CompareAndSwap(m, n); m = h.maxInFlght.Load() {
		}
		select {
		case <-time.After(h.pageDelay):
		case <-r.Context().Done():
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

// peakGoroutines samples runtime.NumGoroutine while fn runs and returns the
// highest count seen above the count before fn.
func peakGoroutines(fn func()) int {
	before := runtime.NumGoroutine()
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if n := int64(runtime.NumGoroutine()); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return int(peak.Load()) - before
}

// Not parallel: the goroutine count must be this test's own.
func TestHugeIndexOverTheCapIsRefusedUnread(t *testing.T) {
	h := &hostileSite{index: hugeIndex(300_000, 16<<20)}
	if len(h.index) < 16<<20 {
		t.Fatalf("index is %d bytes, want 16 MiB", len(h.index))
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var err error
	extra := peakGoroutines(func() {
		_, err = specdrift.FetchDocs(context.Background(), srv.URL, fastDocs())
	})
	var tooLarge *specdrift.IndexTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Max != specdrift.DefaultMaxIndexEntries {
		t.Fatalf("error %v: want the cap of %d exceeded", err, specdrift.DefaultMaxIndexEntries)
	}
	if !strings.Contains(err.Error(), "more than 5000 distinct pages") || !strings.Contains(err.Error(), srv.URL+"/llms.txt") {
		t.Errorf("error %q: want the cap and the index URL named", err)
	}
	if n := h.pages.Load(); n != 0 {
		t.Errorf("%d page requests sent for a refused index, want none", n)
	}
	if extra > 50 {
		t.Errorf("%d goroutines above the baseline, want a handful", extra)
	}
}

// With the cap raised above a long index, the pages are read by a fixed
// pool: the goroutines and requests in flight stay at the concurrency, and
// a cancellation (after 200 pages: no timing involved) ends the run with
// every unread page unverifiable and no more requests. (30,000 links, not
// 300,000, to keep the run short under -race: the pool does not care how
// long the index is.)
func TestHugeIndexReadByAFixedPool(t *testing.T) {
	const links, stopAfter = 30_000, 200
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &hostileSite{index: hugeIndex(links, 1600<<10), pageDelay: 5 * time.Millisecond, stopAfter: stopAfter, stop: cancel}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opt := fastDocs()
	opt.MaxIndexEntries = 2 * links
	opt.Deadline = 5 * time.Minute
	opt.SkipSpec = true
	opt.Fetch.Retries = -1
	var (
		docs *specdrift.Docs
		err  error
	)
	extra := peakGoroutines(func() { docs, err = specdrift.FetchDocs(ctx, srv.URL, opt) })
	if err != nil {
		t.Fatalf("FetchDocs: %v", err)
	}
	if len(docs.Entries) != links || len(docs.Unverifiable) != links {
		t.Fatalf("%d entries, %d unverifiable: want all %d listed and unverifiable", len(docs.Entries), len(docs.Unverifiable), links)
	}
	// Workers (8), their connections (client and server side) and the test's
	// sampler; the old code started a goroutine per entry.
	if extra > 100 {
		t.Errorf("%d goroutines above the baseline while reading %d entries with 8 workers", extra, links)
	}
	if m := h.maxInFlght.Load(); m > int64(opt.Concurrency) {
		t.Errorf("%d page requests in flight at once, want at most %d", m, opt.Concurrency)
	}
	// Only the workers' requests already under way can follow the stop.
	if n := h.pages.Load(); n < stopAfter || n > stopAfter+int64(opt.Concurrency) {
		t.Errorf("%d page requests, want %d plus at most the %d in flight when it stopped", n, stopAfter, opt.Concurrency)
	}
	last := docs.Unverifiable[len(docs.Unverifiable)-1]
	if last.Error != "GET "+last.Page+": canceled" {
		t.Errorf("last entry: %q, want it canceled unfetched", last.Error)
	}
}

// An index naming the same page several times (another host, no ".md",
// a trailing slash) reads it once; the report is the clean one plus a note.
func TestDuplicateIndexEntriesFetchedOnce(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, currentSpec(t))
	site := buildSite(t, spec, docsite.Options{})
	var index bytes.Buffer
	dups := 0
	for line := range strings.Lines(string(site.Files["/llms.txt"])) {
		index.WriteString(line)
		if strings.Contains(line, "/api-reference/") {
			index.WriteString(strings.Replace(line, docsite.Canonical, "https://kelviq.mintlify.app", 1))
			index.WriteString(strings.Replace(strings.Replace(line, ".md)", "/)", 1), "- [", "* [", 1))
			dups += 2
		}
	}
	site.Files["/llms.txt"] = index.Bytes()
	url := serve(t, site)
	r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: url}).Report
	if r.ExitCode() != specdrift.ExitNoDrift {
		t.Fatalf("exit %d: unverifiable %+v changes %+v", r.ExitCode(), r.Unverifiable, r.Changes)
	}
	for _, p := range site.Pages {
		if n := site.Requests(p.Path); n != 1 {
			t.Errorf("%s fetched %d times, want once", p.Path, n)
		}
	}
	if r.Docs.Duplicates != dups || r.Docs.Pages != len(site.Pages) {
		t.Errorf("docs info %+v: want %d duplicates, %d pages", r.Docs, dups, len(site.Pages))
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), fmt.Sprintf("%d duplicate entries", dups)) {
		t.Errorf("notes %q: want the duplicates counted", r.Notes)
	}
}

// A redirect off the docs host is refused, not retried, and never reaches
// the other host: for a page it makes that page unverifiable, for the index
// the check fails, for the published spec the check is unverifiable too. A
// redirect on the docs host is followed.
func TestRedirectOffTheDocsHostRefused(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, currentSpec(t))
	var evilHits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(evil.Close)

	// serveRedirecting serves site, answering each path of redirects with a
	// redirect to the URL it maps to ("" + path: the evil host).
	serveRedirecting := func(site *docsite.Site, redirects map[string]string) string {
		h := site.Handler()
		var counts sync.Map
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if to, ok := redirects[r.URL.Path]; ok {
				n, _ := counts.LoadOrStore(r.URL.Path, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				http.Redirect(w, r, to, http.StatusFound)
				return
			}
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}

	t.Run("page", func(t *testing.T) {
		site := buildSite(t, spec, docsite.Options{})
		page := site.PageOf("get", "/orders/")
		url := serveRedirecting(site, map[string]string{page: evil.URL + page})
		r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: url}).Report
		if r.ExitCode() != specdrift.ExitCouldNotCheck || len(r.Unverifiable) != 1 {
			t.Fatalf("exit %d, unverifiable %+v: want exit 2 and the page", r.ExitCode(), r.Unverifiable)
		}
		u := r.Unverifiable[0]
		if u.Page != url+page || !strings.Contains(u.Error, "redirect off the docs host refused") ||
			!strings.Contains(u.Error, evil.URL+page) || strings.Contains(u.Error, "attempts") {
			t.Errorf("unverifiable %+v: want the page, the refused target, one attempt", u)
		}
	})
	t.Run("index", func(t *testing.T) {
		site := buildSite(t, spec, docsite.Options{})
		url := serveRedirecting(site, map[string]string{"/llms.txt": evil.URL + "/llms.txt"})
		_, err := specdrift.Check(context.Background(), specdrift.Config{Vendored: spec, DocsURL: url, Docs: fastDocs()})
		if !errors.Is(err, specdrift.ErrOffHostRedirect) || !strings.Contains(err.Error(), evil.URL+"/llms.txt") {
			t.Errorf("error %v: want the off-host redirect named", err)
		}
	})
	t.Run("published spec", func(t *testing.T) {
		site := buildSite(t, spec, docsite.Options{})
		specPath := "/" + specdrift.PublishedSpecPath
		url := serveRedirecting(site, map[string]string{specPath: evil.URL + specPath})
		r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: url}).Report
		if r.ExitCode() != specdrift.ExitCouldNotCheck || len(r.Unverifiable) != 1 || r.Unverifiable[0].Page != url+specPath ||
			!strings.Contains(r.Unverifiable[0].Error, evil.URL+specPath) || r.Docs.SpecUsed {
			t.Errorf("exit %d, unverifiable %+v, spec used %v: want exit 2 naming the spec's redirect", r.ExitCode(), r.Unverifiable, r.Docs.SpecUsed)
		}
	})
	t.Run("on the docs host", func(t *testing.T) {
		site := buildSite(t, spec, docsite.Options{})
		site.Files["/moved/llms.txt"] = site.Files["/llms.txt"]
		url := serveRedirecting(site, map[string]string{"/llms.txt": "/moved/llms.txt"})
		r := runCheck(t, specdrift.Config{Vendored: spec, DocsURL: url}).Report
		if r.ExitCode() != specdrift.ExitNoDrift {
			t.Errorf("exit %d, unverifiable %+v: a same-host redirect must be followed", r.ExitCode(), r.Unverifiable)
		}
	})
	if n := evilHits.Load(); n != 0 {
		t.Errorf("the other host received %d requests, want none", n)
	}
}
