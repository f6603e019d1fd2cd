package usage_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/kelviq/kelviq-go/usage"
)

// Another program's bbolt file (a path mistyped, a shared directory) is
// not an outbox: opening it fails with ErrCorrupt and leaves it as it was.
// It used to get the outbox's buckets written into it, and to open as an
// empty outbox (kelviq-usage inspect said nothing was queued).
func TestForeignBoltFileIsNotAnOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("sessions"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o, err := usage.OpenFileOutbox(path)
	if err == nil {
		_ = o.Close()
	}
	if !errors.Is(err, usage.ErrCorrupt) {
		t.Fatalf("OpenFileOutbox(another program's bbolt file) = %v; want ErrCorrupt", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("opening another program's bbolt file changed it")
	}
}
