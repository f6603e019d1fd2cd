package usage_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/kelviq/kelviq-go/usage"
)

// The checker must pass every file bbolt writes, or a whole outbox would
// be salvaged: random puts and deletes, keys in and out of order, values
// small and larger than a page, nested and inline buckets, with and
// without a persisted freelist, checked after every commit.
func TestCheckerAcceptsWhatBboltWrites(t *testing.T) {
	for _, noFreelistSync := range []bool{true, false} {
		t.Run(fmt.Sprintf("NoFreelistSync=%v", noFreelistSync), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(len(t.Name())), 7))
			path := filepath.Join(t.TempDir(), "random.db")
			db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: noFreelistSync, NoSync: true, FreelistType: bolt.FreelistMapType})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			names := [][]byte{[]byte("outbox"), []byte("dead"), []byte("sending"), []byte("other")}
			for commit := range 150 {
				err := db.Update(func(tx *bolt.Tx) error {
					for range 1 + rng.IntN(60) {
						b, err := tx.CreateBucketIfNotExists(names[rng.IntN(len(names))])
						if err != nil {
							return err
						}
						if rng.IntN(10) == 0 {
							// A nested bucket, small (inline) or not.
							nb, err := b.CreateBucketIfNotExists([]byte(fmt.Sprintf("nested-%d", rng.IntN(4))))
							if err != nil {
								return err
							}
							b = nb
						}
						var k []byte
						if rng.IntN(2) == 0 {
							k = binary.BigEndian.AppendUint64(nil, uint64(rng.IntN(3000)))
						} else {
							k = fmt.Appendf(nil, "key-%d", rng.IntN(2000))
						}
						switch rng.IntN(5) {
						case 0, 1:
							if err := b.Delete(k); err != nil && b.Get(k) != nil {
								return err
							}
						default:
							v := make([]byte, 1+rng.IntN(40))
							if rng.IntN(50) == 0 {
								v = make([]byte, 5000+rng.IntN(9000)) // overflow pages
							}
							if b.Bucket(k) == nil {
								if err := b.Put(k, v); err != nil {
									return err
								}
							}
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if v, why := usage.CheckBoltFile(path); v != "ok" {
					t.Fatalf("after commit %d: the checker says %s: %v", commit, v, why)
				}
			}
		})
	}
}
