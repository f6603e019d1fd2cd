package usage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/usage"
)

// smallOutbox returns the bytes of an outbox holding n reports, for seeds.
func smallOutbox(f *testing.F, n int) []byte {
	f.Helper()
	path := filepath.Join(f.TempDir(), "seed.db")
	r, err := usage.NewReporter(newClient(f, "http://"+deadAddr(f)), usage.WithPath(path))
	if err != nil {
		f.Fatal(err)
	}
	for i := range n {
		if err := r.Report(context.Background(), "c", "f", i, api.ReportUsageRequestBehaviourDELTA); err != nil {
			f.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = r.Close(ctx)
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzBoltCheck: whatever the file holds, the checker returns, quickly,
// without panicking; and NewReporter on it (check, salvage, bbolt) returns
// a Reporter or an error, in this process: a file the checker let through
// that bbolt cannot take would crash the fuzzer.
func FuzzBoltCheck(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("not an outbox"))
	f.Add(smallOutbox(f, 0))
	f.Add(smallOutbox(f, 3))
	f.Add(smallOutbox(f, 400)) // a branch page and several leaves
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		v, _ := usage.CheckBoltBytes(b)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("the check of %d bytes took %v", len(b), d)
		}
		path := filepath.Join(t.TempDir(), "outbox.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := usage.NewReporter(newClient(t, "http://127.0.0.1:1"), usage.WithPath(path))
		if err != nil {
			if v == "ok" || v == "empty" || v == "damaged" {
				// bbolt may still refuse what it can read safely (a
				// bucket name holding a value, say); it must say so.
				if err.Error() == "" {
					t.Fatal("empty error")
				}
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_ = r.Report(ctx, "c", "f", 1, api.ReportUsageRequestBehaviourDELTA)
		_ = r.Close(ctx)
	})
}
