package usage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Buckets of the outbox file.
var (
	outboxBucket = []byte("outbox") // pending records, keyed pair+seq
	deadBucket   = []byte("dead")   // dead letters: same keys, record+reason
)

// ErrLocked is wrapped by the error NewReporter returns when another
// Reporter, in this process or another, holds the file.
var ErrLocked = errors.New("usage: the outbox file is in use by another Reporter")

// boltStore keeps the outbox in one bbolt file.
type boltStore struct {
	db *bolt.DB
}

func openBolt(path string, cfg *config) (*boltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		// bbolt takes an exclusive flock on the file; a second opener
		// waits this long, then fails instead of blocking forever.
		Timeout: cfg.lockTimeout,
		// The freelist is rebuilt when the file is opened instead of
		// being written at every commit: a commit of a few reports then
		// writes a few pages, not a freelist that grows with the
		// deletions of a long outage.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (bbolt could not lock it within %v)", ErrLocked, path, cfg.lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("usage: opening the outbox file %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{outboxBucket, deadBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("usage: preparing the outbox file %s: %w", path, err)
	}
	return &boltStore{db: db}, nil
}

func (s *boltStore) append(batch []*writeReq) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		for _, w := range batch {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			w.rec.seq = seq
			if err := b.Put(recordKey(w.pair, seq), w.rec.encode()); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) pending() (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(outboxBucket).ForEach(func(k, _ []byte) error {
			if len(k) > 8 {
				// A malformed pair still counts: read dead-letters it.
				out[string(k[:len(k)-8])]++
			}
			return nil
		})
	})
	return out, err
}

func (s *boltStore) read(pair string, max int) (recs []record, corrupt []byte, err error) {
	prefix := []byte(pair)
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(outboxBucket).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(recs) < max; k, v = c.Next() {
			r, derr := decodeRecord(pair, k, v)
			if derr != nil {
				if len(recs) == 0 {
					corrupt = bytes.Clone(k)
				}
				return nil
			}
			recs = append(recs, r)
		}
		return nil
	})
	return recs, corrupt, err
}

func (s *boltStore) remove(pair string, upTo uint64) (n int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(outboxBucket)
		keys := s.keysUpTo(b, pair, upTo)
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}

// keysUpTo returns pair's keys with a seq up to upTo. Keys are collected
// first: deleting under a moving cursor skips entries in bbolt.
func (s *boltStore) keysUpTo(b *bolt.Bucket, pair string, upTo uint64) [][]byte {
	prefix := []byte(pair)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) != len(prefix)+8 || binary.BigEndian.Uint64(k[len(prefix):]) > upTo {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

func (s *boltStore) deadLetter(pair string, recs []record, corrupt []byte, reason string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		out, dead := tx.Bucket(outboxBucket), tx.Bucket(deadBucket)
		move := func(k []byte) error {
			v := out.Get(k)
			if v == nil {
				return nil
			}
			dv := binary.AppendUvarint(nil, uint64(len(v)))
			dv = append(dv, v...)
			dv = append(dv, reason...)
			if err := dead.Put(k, dv); err != nil {
				return err
			}
			return out.Delete(k)
		}
		if corrupt != nil {
			return move(corrupt)
		}
		for _, r := range recs {
			if err := move(recordKey(pair, r.seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) deadLetters() ([]DeadLetter, error) {
	var out []DeadLetter
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(deadBucket).ForEach(func(k, v []byte) error {
			d := DeadLetter{Reason: "unreadable dead letter"}
			n, w := binary.Uvarint(v)
			if w > 0 && uint64(len(v)-w) >= n && len(k) > 8 {
				pair := string(k[:len(k)-8])
				if r, err := decodeRecord(pair, k, v[w:w+int(n)]); err == nil {
					d.Report = r.report(pair)
				}
				d.Reason = string(v[w+int(n):])
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

func (s *boltStore) close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("usage: closing the outbox file: %w", err)
	}
	return nil
}
