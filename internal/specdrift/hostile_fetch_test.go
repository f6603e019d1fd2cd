package specdrift_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/internal/specdrift"
)

// A hostile docs host: every read is capped after decoding, and an answer a
// retry would only repeat (too large, a redirect loop) costs one attempt.
func TestFetchHostileBodies(t *testing.T) {
	t.Parallel()
	// 64 MiB of zeros gzip to about 64 KiB: the cap applies to what the
	// transport decodes, not to what crossed the wire.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for range 64 {
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()

	var hits sync.Map // path → *atomic.Int64
	count := func(r *http.Request) {
		n, _ := hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/bomb/llms.txt", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Errorf("Accept-Encoding %q: the transport did not offer gzip", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb.Bytes())
	})
	mux.HandleFunc("/endless/llms.txt", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		line := bytes.Repeat([]byte("- [x](/api-reference/t/p.md)\n"), 1024)
		for r.Context().Err() == nil {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/liar/llms.txt", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Content-Length", "1073741824") // 1 GiB claimed, 5 bytes sent
		_, _ = w.Write([]byte("short"))
	})
	mux.HandleFunc("/loop/llms.txt", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		http.Redirect(w, r, "/loop/llms.txt", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	opt := specdrift.DocsOptions{SkipSpec: true, Fetch: specdrift.FetchOptions{Timeout: 10 * time.Second, Retries: 2, Backoff: time.Millisecond, MaxBytes: 1 << 20}}
	for _, tc := range []struct {
		path, want string
		requests   int64
	}{
		{"/bomb", "body larger than 1048576 bytes", 1},
		{"/endless", "body larger than 1048576 bytes", 1},
		{"/loop", "stopped after 10 redirects", 10},
		{"/liar", "unexpected EOF", 3}, // a cut connection may heal: retried
	} {
		// FetchDocs reads the index through the docs host's confined client.
		_, err := specdrift.FetchDocs(context.Background(), srv.URL+tc.path, opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
		var n int64
		if c, ok := hits.Load(tc.path + "/llms.txt"); ok {
			n = c.(*atomic.Int64).Load()
		}
		if n != tc.requests {
			t.Errorf("%s: %d requests, want %d", tc.path, n, tc.requests)
		}
	}
}
