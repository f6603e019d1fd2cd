package usage_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/kelviq/kelviq-go/usage"
)

// bigOutbox writes an outbox file of n records (the Reporter's format: a
// 44-byte record under an 8-byte key) straight with bbolt, in commits of
// 1,000, and returns its path.
func bigOutbox(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "big.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	rec := []byte{1, 0, 22, 8}
	rec = append(rec, "customer-1"...)
	rec = append(rec, 9)
	rec = append(rec, "feature-1"...)
	rec = binary.AppendVarint(rec, 1)
	rec = binary.AppendVarint(rec, 1_700_000_000_000_000_000)
	for i := 0; i < n; i += 1000 {
		err := db.Update(func(tx *bolt.Tx) error {
			out, err := tx.CreateBucketIfNotExists([]byte("outbox"))
			if err != nil {
				return err
			}
			for _, name := range []string{"dead", "sending"} {
				if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
					return err
				}
			}
			out.FillPercent = 0.95
			for j := i; j < min(i+1000, n); j++ {
				seq, _ := out.NextSequence()
				if err := out.Put(binary.BigEndian.AppendUint64(nil, seq), rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkOutboxFileCheck measures the check NewReporter runs before
// bbolt opens the file, against bbolt's own open of it (which, with
// NoFreelistSync, walks the same tree to rebuild the freelist).
func BenchmarkOutboxFileCheck(b *testing.B) {
	for _, n := range []int{3_000, 100_000, 1_000_000} {
		path := bigOutbox(b, n)
		fi, _ := os.Stat(path)
		b.Run(fmt.Sprintf("check/records=%d", n), func(b *testing.B) {
			b.SetBytes(fi.Size())
			for b.Loop() {
				if v, err := usage.CheckBoltFile(path); v != "ok" {
					b.Fatal(v, err)
				}
			}
		})
		b.Run(fmt.Sprintf("bbolt-open/records=%d", n), func(b *testing.B) {
			b.SetBytes(fi.Size())
			for b.Loop() {
				db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
				if err != nil {
					b.Fatal(err)
				}
				_ = db.Close()
			}
		})
	}
}
