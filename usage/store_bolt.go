package usage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

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

// boltStore is an open outbox file with its buckets.
type boltStore struct {
	db *bolt.DB
}

// openBoltDB is the one place that opens the bbolt file.
func openBoltDB(path string, timeout time.Duration) (*bolt.DB, error) {
	return bolt.Open(path, 0o600, &bolt.Options{
		// bbolt takes an exclusive flock on the file; a second opener
		// waits this long, then fails instead of blocking forever.
		Timeout: timeout,
		// The freelist is rebuilt when the file is opened instead of
		// being written at every commit: a commit of a few reports then
		// writes a few pages, not a freelist that grows with the
		// deletions of a long outage.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
}

func openBolt(path string, cfg *config) (*boltStore, error) {
	// Check the file before bbolt maps it; salvage a damaged one (boltopen.go).
	if err := prepareOutboxFile(path, cfg); err != nil {
		return nil, err
	}
	lockTimeout := cfg.lockTimeout
	db, err := openBoltDB(path, lockTimeout)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (bbolt could not lock it within %v)", ErrLocked, path, lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("usage: opening the outbox file %s: %w", path, err)
	}
	if err := db.View(func(tx *bolt.Tx) error { return checkOurs(tx, path) }); err != nil {
		_ = db.Close()
		return nil, err
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

// checkOurs refuses a bbolt file that holds buckets and none of an
// outbox's: another program's file (a mistyped path), which creating the
// outbox's buckets would change, and which would open as an empty outbox.
func checkOurs(tx *bolt.Tx, path string) error {
	var foreign []byte
	ours := false
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		switch {
		case bytes.Equal(name, outboxBucket), bytes.Equal(name, deadBucket), bytes.Equal(name, sendingBucket):
			ours = true
		case foreign == nil:
			foreign = bytes.Clone(name)
		}
		return nil
	})
	if !ours && foreign != nil {
		return fmt.Errorf("%w: %s holds the bbolt bucket %q and none of an outbox's: another program's file? It is left as it is", ErrCorrupt, path, foreign)
	}
	return nil
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

// A dead letter is stored under its record's key as uvarint(len(record)),
// record, then its reason: in the first format the reason's text; now a
// zero byte and deadMeta as JSON (the old text never starts with a zero
// byte, so both read).
type deadMeta struct {
	Reason string    `json:"reason"`
	Status int       `json:"status,omitempty"`
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at"`
}

// moveDead moves the outbox record under k to the dead-letter bucket.
func moveDead(tx *bolt.Tx, k []byte, dl DeadLetter) error {
	out, dead := tx.Bucket(outboxBucket), tx.Bucket(deadBucket)
	v := out.Get(k)
	if v == nil {
		return nil
	}
	meta, err := json.Marshal(deadMeta{Reason: dl.Reason, Status: dl.Status, Error: dl.Error, At: dl.At.UTC()})
	if err != nil {
		return err
	}
	dv := binary.AppendUvarint(nil, uint64(len(v)))
	dv = append(dv, v...)
	dv = append(dv, 0)
	dv = append(dv, meta...)
	if err := dead.Put(k, dv); err != nil {
		return err
	}
	if err := tx.Bucket(sendingBucket).Delete(k); err != nil {
		return err
	}
	return out.Delete(k)
}

// decodeDead reads a dead letter of either format; raw is its record's
// stored form, nil when unreadable.
func decodeDead(k, v []byte) (d DeadLetter, raw []byte) {
	d = DeadLetter{Reason: ReasonUnreadable, Error: "unreadable dead letter"}
	if len(k) == 8 {
		d.ID = strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
	}
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return d, nil
	}
	rest := v[w+int(n):]
	if r, err := decodeRecord(k, v[w:w+int(n)]); err == nil {
		d.Report = r.report()
		raw = v[w : w+int(n)]
	}
	if len(rest) > 0 && rest[0] == 0 {
		var m deadMeta
		if json.Unmarshal(rest[1:], &m) == nil {
			d.Reason, d.Status, d.Error, d.At = m.Reason, m.Status, m.Error, m.At
		}
	} else {
		// The first format: the error's text only.
		d.Error = string(rest)
		d.Reason, d.Status = reasonOfText(d.Error)
	}
	if raw == nil {
		d.Reason = ReasonUnreadable
	}
	return d, raw
}

// statusInText finds an HTTP status in an error's text ("… 401 Unauthorized").
var statusInText = regexp.MustCompile(`\b([1-5][0-9][0-9])\b`)

// reasonOfText classes a dead letter of the first format by its text.
func reasonOfText(text string) (string, int) {
	switch {
	case strings.Contains(text, ErrUncertain.Error()):
		return ReasonUncertain, 0
	case strings.Contains(text, errCorrupt.Error()):
		return ReasonUnreadable, 0
	}
	if m := statusInText.FindStringSubmatch(text); m != nil {
		st, _ := strconv.Atoi(m[1])
		if st >= 300 && st < 400 {
			return ReasonRedirect, st
		}
		return m[1], st
	}
	return "refused", 0
}
