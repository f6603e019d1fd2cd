package usage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// Test-only views of the outbox file checker (boltcheck.go).

// CheckBoltBytes runs the checker on b: "ok", "empty", "not-bolt", "newer"
// or "damaged", and why.
func CheckBoltBytes(b []byte) (string, error) {
	v, err := checkBolt(bytes.NewReader(b), int64(len(b)))
	return [...]string{"ok", "empty", "not-bolt", "newer", "damaged"}[v], err
}

// OutboxPageMap is where the records of a whole outbox file are.
type OutboxPageMap struct {
	PageSize int
	// Leaves holds, per leaf page of the outbox bucket, the seqs on it.
	Leaves map[uint64][]uint64
	// Structural holds every other page a reader goes through: the meta
	// pages, the root bucket's pages, the branch pages and the leaves of
	// the other buckets.
	Structural map[uint64]bool
	// OutboxRoot is the root page of the outbox bucket.
	OutboxRoot uint64
}

// MapOutbox reads the page map of the whole outbox file at path.
func MapOutbox(path string) (*OutboxPageMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := bytes.NewReader(b)
	if v, err := checkBolt(r, int64(len(b))); v != boltOK {
		return nil, fmt.Errorf("not a whole file: %v", err)
	}
	ps, m, _, _, _, _ := readMetas(r, int64(len(b)))
	f := &boltFile{r: r, size: int64(len(b)), ps: ps, hwm: m.pgid, maxPages: uint64(len(b)) / uint64(ps)}
	pm := &OutboxPageMap{PageSize: ps, Leaves: map[uint64][]uint64{}, Structural: map[uint64]bool{0: true, 1: true}}
	var walk func(id uint64, fn func(id uint64, e boltElem)) error
	walk = func(id uint64, fn func(uint64, boltElem)) error {
		p, err := f.page(id)
		if err != nil {
			return err
		}
		if pageFlags(p) == boltBranchPage {
			pm.Structural[id] = true
			for i := range pageCount(p) {
				e, _ := elem(p, i, true)
				if err := walk(e.child, fn); err != nil {
					return err
				}
			}
			return nil
		}
		for i := range pageCount(p) {
			e, _ := elem(p, i, false)
			fn(id, e)
		}
		return nil
	}
	var outboxRoot uint64
	err = walk(m.root, func(id uint64, e boltElem) {
		pm.Structural[id] = true
		if bytes.Equal(e.key, outboxBucket) {
			outboxRoot = binary.LittleEndian.Uint64(e.value)
		} else if root := binary.LittleEndian.Uint64(e.value); root != 0 {
			_ = walk(root, func(id uint64, _ boltElem) { pm.Structural[id] = true })
		}
	})
	if err != nil || outboxRoot == 0 {
		return nil, fmt.Errorf("no outbox tree (inline or unreadable): %v", err)
	}
	pm.OutboxRoot = outboxRoot
	err = walk(outboxRoot, func(id uint64, e boltElem) {
		pm.Leaves[id] = append(pm.Leaves[id], binary.BigEndian.Uint64(e.key))
	})
	return pm, err
}

// PrepareOutboxFile runs the check (and salvage) NewReporter runs before
// bbolt opens path.
func PrepareOutboxFile(path string) error {
	cfg := defaultConfig()
	return prepareOutboxFile(path, &cfg)
}

// CheckBoltFile runs the checker on the file at path, as NewReporter
// does (plain reads), returning the verdict.
func CheckBoltFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	v, err := checkBolt(f, fi.Size())
	return [...]string{"ok", "empty", "not-bolt", "newer", "damaged"}[v], err
}
