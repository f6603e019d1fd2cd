package usage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// salvage is what could be read from a damaged outbox file.
type salvage struct {
	outbox  map[uint64][]byte // seq → encoded record
	dead    map[uint64][]byte // seq → dead letter (uvarint length, record, reason)
	sending map[uint64]bool   // seqs marked in flight

	lostPages    int // pages of the tree that could not be read (their records are lost)
	lostElements int // entries that could not be read or decoded
}

func (s *salvage) records() int { return len(s.outbox) + len(s.dead) }

// salvageBolt reads every intact leaf of the outbox, dead and sending
// buckets of a damaged file, following the tree of the meta bbolt would
// use. It never reads a page that is not in that tree: a free page holds
// stale records, of reports delivered long ago, which must not come back.
// A damaged branch costs only the children it can no longer name; every
// page is read at most once, so the work is bounded by the file's size.
func salvageBolt(r io.ReaderAt, size int64) *salvage {
	s := &salvage{outbox: map[uint64][]byte{}, dead: map[uint64][]byte{}, sending: map[uint64]bool{}}
	ps, m, other, otherOK, v, _ := readMetas(r, size)
	if v != boltOK {
		return s
	}
	if !s.fromMeta(r, size, ps, m) && otherOK {
		// The newest tree's root page is gone; the previous commit's
		// tree is whole unless its pages were reused since.
		*s = salvage{outbox: map[uint64][]byte{}, dead: map[uint64][]byte{}, sending: map[uint64]bool{}, lostPages: s.lostPages}
		s.fromMeta(r, size, ps, other)
	}
	for seq := range s.dead {
		delete(s.outbox, seq) // a dead letter is never sent again
	}
	for seq := range s.sending {
		if s.outbox[seq] == nil {
			delete(s.sending, seq)
		}
	}
	return s
}

// fromMeta reads the buckets of the tree of m; false when its root page
// could not be read at all.
func (s *salvage) fromMeta(r io.ReaderAt, size int64, ps int, m boltMeta) bool {
	f := &boltFile{r: r, size: size, ps: ps, hwm: m.pgid, maxPages: uint64(size) / uint64(ps)}
	if f.hwm > f.maxPages {
		f.hwm = f.maxPages // a truncated file: what is past its end is lost
	}
	if _, err := f.page(m.root); err != nil {
		s.lostPages++
		return false
	}
	w := &salvageWalk{f: f, s: s, visited: map[uint64]bool{}}
	w.walk(m.root, nil, nil, 0, func(e boltElem) {
		if e.flags&boltBucketLeaf == 0 || len(e.value) < boltBucketHeader {
			return
		}
		var put func(boltElem)
		switch {
		case bytes.Equal(e.key, outboxBucket):
			put = s.putOutbox
		case bytes.Equal(e.key, deadBucket):
			put = s.putDead
		case bytes.Equal(e.key, sendingBucket):
			put = s.putSending
		default:
			return
		}
		if root := binary.LittleEndian.Uint64(e.value); root != 0 {
			w.walk(root, nil, nil, 0, put)
			return
		}
		w.leaf(e.value[boltBucketHeader:], nil, nil, put)
	})
	return true
}

func (s *salvage) putOutbox(e boltElem) {
	_, err := decodeRecord(e.key, e.value)
	if err != nil && !errors.Is(err, errNewerFormat) || e.flags&boltBucketLeaf != 0 {
		s.lostElements++
		return
	}
	s.outbox[binary.BigEndian.Uint64(e.key)] = bytes.Clone(e.value)
}

func (s *salvage) putDead(e boltElem) {
	n, w := binary.Uvarint(e.value)
	if len(e.key) != 8 || w <= 0 || uint64(len(e.value)-w) < n || e.flags&boltBucketLeaf != 0 {
		s.lostElements++
		return
	}
	s.dead[binary.BigEndian.Uint64(e.key)] = bytes.Clone(e.value)
}

func (s *salvage) putSending(e boltElem) {
	if len(e.key) != 8 || !bytes.Equal(e.value, []byte{1}) || e.flags&boltBucketLeaf != 0 {
		s.lostElements++
		return
	}
	s.sending[binary.BigEndian.Uint64(e.key)] = true
}

// salvageWalk follows a tree leniently: what fails a check is skipped,
// counted, and the rest read.
type salvageWalk struct {
	f       *boltFile
	s       *salvage
	visited map[uint64]bool
}

// walk calls fn for every readable leaf element of the subtree at id whose
// key lies in [lo, hi) and after the previous one.
func (w *salvageWalk) walk(id uint64, lo, hi []byte, level int, fn func(boltElem)) {
	if level > boltMaxDepth || w.visited[id] {
		w.s.lostPages++
		return
	}
	p, err := w.f.page(id)
	if err != nil || !w.fits(p, lo, hi) {
		// (Not marked visited: a damaged reference to a page in
		// another range must not cost the page its own reference.)
		w.s.lostPages++
		return
	}
	w.visited[id] = true
	switch pageFlags(p) {
	case boltBranchPage:
		var elems []boltElem
		prev := lo
		for i := range pageCount(p) {
			e, err := elem(p, i, true)
			if err != nil || !inRange(e.key, prev, hi, len(elems) == 0) {
				w.s.lostElements++
				continue
			}
			elems = append(elems, e)
			prev = e.key
		}
		for i, e := range elems {
			next := hi
			if i+1 < len(elems) {
				next = elems[i+1].key
			}
			w.walk(e.child, e.key, next, level+1, fn)
		}
	case boltLeafPage:
		w.leaf(p, lo, hi, fn)
	default:
		w.s.lostPages++
	}
}

// fits says whether page p may be the child of the range [lo, hi): its
// first readable key lies in it.
func (w *salvageWalk) fits(p []byte, lo, hi []byte) bool {
	branch := pageFlags(p) == boltBranchPage
	if !branch && pageFlags(p) != boltLeafPage {
		return false
	}
	for i := range pageCount(p) {
		e, err := elem(p, i, branch)
		if err != nil {
			continue
		}
		return inRange(e.key, lo, hi, true)
	}
	return true // no readable key: nothing in it to misplace
}

// leaf calls fn for the readable elements of leaf page p, keys in order
// within [lo, hi).
func (w *salvageWalk) leaf(p []byte, lo, hi []byte, fn func(boltElem)) {
	if len(p) < boltPageHeaderSize || pageFlags(p) != boltLeafPage {
		w.s.lostPages++
		return
	}
	prev := lo
	first := true
	for i := range pageCount(p) {
		e, err := elem(p, i, false)
		if err != nil {
			if i*boltElemSize+boltPageHeaderSize >= len(p) {
				break // a damaged count: past the page there is nothing
			}
			w.s.lostElements++
			continue
		}
		if !inRange(e.key, prev, hi, first) {
			w.s.lostElements++
			continue
		}
		first = false
		prev = e.key
		fn(e)
	}
}

// inRange says whether key may follow prev (equal allowed for the first
// key of a page, which its parent's key names) and precede hi.
func inRange(key, prev, hi []byte, first bool) bool {
	if prev != nil {
		c := bytes.Compare(prev, key)
		if c > 0 || c == 0 && !first {
			return false
		}
	}
	return hi == nil || bytes.Compare(key, hi) < 0
}

// writeSalvage writes what s holds into a fresh outbox file at path (which
// must not exist), synced.
func writeSalvage(path string, s *salvage) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var last uint64
		for _, b := range []struct {
			name []byte
			recs map[uint64][]byte
		}{
			{outboxBucket, s.outbox},
			{deadBucket, s.dead},
			{sendingBucket, marks(s.sending)},
		} {
			bk, err := tx.CreateBucket(b.name)
			if err != nil {
				return err
			}
			bk.FillPercent = 0.95 // keys go in in order
			for _, seq := range slices.Sorted(maps.Keys(b.recs)) {
				if err := bk.Put(seqKey(seq), b.recs[seq]); err != nil {
					return err
				}
				last = max(last, seq)
			}
		}
		return tx.Bucket(outboxBucket).SetSequence(last)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func marks(m map[uint64]bool) map[uint64][]byte {
	out := make(map[uint64][]byte, len(m))
	for seq := range m {
		out[seq] = []byte{1}
	}
	return out
}
