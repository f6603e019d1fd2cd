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
	outboxBucket  = []byte("outbox")  // pending records, keyed by seq
	deadBucket    = []byte("dead")    // dead letters: same keys, record+reason
	sendingBucket = []byte("sending") // in-flight marks (AtMostOnce): same keys, value 1
)

// ErrLocked is wrapped by the error NewReporter returns when another
// Reporter, in this process or another, holds the file.
var ErrLocked = errors.New("usage: the outbox file is in use by another Reporter")

// boltStore keeps the outbox in one bbolt file.
type boltStore struct {
	db *bolt.DB
}

func openBolt(path string, cfg *config) (*boltStore, error) {
	// Check the file before bbolt maps it; salvage a damaged one (boltopen.go).
	if err := prepareOutboxFile(path, cfg); err != nil {
		return nil, err
	}
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
		for _, name := range [][]byte{outboxBucket, deadBucket, sendingBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return catchUpSequence(tx)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("usage: preparing the outbox file %s: %w", path, err)
	}
	return &boltStore{db: db}, nil
}

// catchUpSequence moves the outbox's sequence past the last key of the
// outbox and of the dead letters (which keep their outbox keys). Commits
// keep them in step, but in a damaged file (a sequence set back, a nested
// bucket where a record goes) NextSequence would give a key in use, and
// Put would write a new report over a stored one, or fail for every
// report from then on.
func catchUpSequence(tx *bolt.Tx) error {
	out := tx.Bucket(outboxBucket)
	last := out.Sequence()
	for _, name := range [][]byte{outboxBucket, deadBucket} {
		if k, _ := tx.Bucket(name).Cursor().Last(); len(k) == 8 {
			last = max(last, binary.BigEndian.Uint64(k))
		}
	}
	if last == out.Sequence() {
		return nil // the usual case: nothing to write
	}
	return out.SetSequence(last)
}

func (s *boltStore) commit(batch []*writeReq) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, sending := tx.Bucket(outboxBucket), tx.Bucket(sendingBucket)
		// Keys only grow: a split page is never written into again, so
		// fill it (bbolt's default of half suits random inserts).
		b.FillPercent = 0.95
		for _, w := range batch {
			var err error
			for _, seq := range w.seqs {
				k := seqKey(seq)
				switch w.op {
				case opDelete:
					if err = b.Delete(k); err == nil {
						err = sending.Delete(k)
					}
				case opMark:
					err = sending.Put(k, []byte{1})
				case opUnmark:
					err = sending.Delete(k)
				}
				if err != nil {
					return err
				}
			}
			if w.op != opReport {
				continue
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			w.rec.seq = seq
			if err := b.Put(seqKey(seq), w.rec.encode()); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) load(fn func(record, bool)) (int, int, error) {
	var bad [][]byte
	newer := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		sending := tx.Bucket(sendingBucket)
		return tx.Bucket(outboxBucket).ForEach(func(k, v []byte) error {
			r, err := decodeRecord(k, v)
			switch {
			case errors.Is(err, errNewerFormat):
				newer++
			case err != nil:
				bad = append(bad, bytes.Clone(k))
			default:
				fn(r, sending.Get(k) != nil)
			}
			return nil
		})
	})
	if err != nil || len(bad) == 0 {
		return 0, newer, err
	}
	// Unreadable records cannot be sent: keep them aside, not in the way.
	return len(bad), newer, s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range bad {
			if err := moveDead(tx, k, errCorrupt.Error()); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) get(seqs []uint64) ([]record, error) {
	out := make([]record, 0, len(seqs))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		for _, seq := range seqs {
			k := seqKey(seq)
			r, err := decodeRecord(k, b.Get(k))
			if err != nil {
				return fmt.Errorf("record %d: %w", seq, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (s *boltStore) deadLetter(recs []record, reason string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range recs {
			if err := moveDead(tx, seqKey(r.seq), reason); err != nil {
				return err
			}
		}
		return nil
	})
}

// moveDead moves the outbox record under k to the dead-letter bucket:
// uvarint(len(record)), record, reason.
func moveDead(tx *bolt.Tx, k []byte, reason string) error {
	out, dead := tx.Bucket(outboxBucket), tx.Bucket(deadBucket)
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
	if err := tx.Bucket(sendingBucket).Delete(k); err != nil {
		return err
	}
	return out.Delete(k)
}

func (s *boltStore) deadLetters() ([]DeadLetter, error) {
	var out []DeadLetter
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(deadBucket).ForEach(func(k, v []byte) error {
			d := DeadLetter{Reason: "unreadable dead letter"}
			n, w := binary.Uvarint(v)
			if w > 0 && uint64(len(v)-w) >= n {
				if r, err := decodeRecord(k, v[w:w+int(n)]); err == nil {
					d.Report = r.report()
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
