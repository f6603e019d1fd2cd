package usage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// This file checks an outbox file before bbolt maps it. bbolt trusts its
// file: opened with NoFreelistSync it walks the whole tree to rebuild the
// freelist, in a goroutine whose panics no recover can catch, through a
// memory map where a page past the end of a truncated file is a SIGBUS,
// and a cycle in the tree is a walk that never ends. So every byte bbolt
// would follow at open and at use is checked here first, with plain reads
// (no map) and bounds checks on every index: the meta pages as bbolt picks
// them, the high-water mark against the file's size, the freelist when
// there is one, and every page reachable from the root bucket (each read
// once, a visited set refusing a second reference, so the walk is bounded
// by the file's size), with the invariants bbolt's own consistency walk
// asserts: page ids, page types, element bounds, key order.

// bbolt's on-disk constants (go.etcd.io/bbolt/internal/common).
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltPageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	boltElemSize       = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	boltBucketHeader   = 16 // root pgid u64, sequence u64
	boltMetaSize       = 64 // magic … checksum
	boltNoFreelist     = ^uint64(0)

	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltMetaPage     = 0x04
	boltFreelistPage = 0x10
	boltBucketLeaf   = 0x01

	// boltMaxDepth bounds the depth of a tree and of bucket nesting. With
	// at least two keys a page, a real tree this deep cannot exist.
	boltMaxDepth = 64
)

// boltMeta is a decoded meta page.
type boltMeta struct {
	magic, version, pageSize uint32
	root, rootSeq            uint64
	freelist, pgid, txid     uint64
	sumOK                    bool
}

func parseBoltMeta(b []byte) (boltMeta, bool) {
	if len(b) < boltPageHeaderSize+boltMetaSize {
		return boltMeta{}, false
	}
	m := b[boltPageHeaderSize:]
	le := binary.LittleEndian
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	return boltMeta{
		magic: le.Uint32(m[0:]), version: le.Uint32(m[4:]), pageSize: le.Uint32(m[8:]),
		root: le.Uint64(m[16:]), rootSeq: le.Uint64(m[24:]),
		freelist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:]),
		sumOK: le.Uint64(m[56:]) == h.Sum64(),
	}, true
}

// valid is bbolt's Meta.Validate.
func (m boltMeta) valid() bool { return m.magic == boltMagic && m.version == boltVersion && m.sumOK }

// What a check found.
type boltVerdict int

const (
	boltOK      boltVerdict = iota // bbolt can open and use it
	boltEmpty                      // zero bytes: bbolt writes a fresh file
	boltNotBolt                    // no meta page says bbolt: not ours, leave it alone
	boltNewer                      // a bbolt format this version cannot read
	boltDamaged                    // a bbolt file whose structure is damaged: salvage
)

// boltFile reads pages of a bbolt file with plain reads.
type boltFile struct {
	r        io.ReaderAt
	size     int64
	ps       int    // page size bbolt will use
	hwm      uint64 // the chosen meta's high-water mark
	maxPages uint64 // pages wholly inside the file
}

// page reads page id and its overflow pages, checking what bbolt's
// FastCheck and the walk assert: in bounds, its own id, one known type.
func (f *boltFile) page(id uint64) ([]byte, error) {
	if id < 2 || id >= f.hwm || id >= f.maxPages {
		return nil, fmt.Errorf("page %d: out of bounds (high-water mark %d, %d pages in the file)", id, f.hwm, f.maxPages)
	}
	off := int64(id) * int64(f.ps)
	buf := make([]byte, f.ps)
	if _, err := f.r.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	le := binary.LittleEndian
	if got := le.Uint64(buf); got != id {
		return nil, fmt.Errorf("page %d identifies as %d", id, got)
	}
	ov := uint64(le.Uint32(buf[12:]))
	if ov >= f.hwm-id || ov >= f.maxPages-id {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the end", id, ov)
	}
	if ov > 0 {
		buf = append(buf, make([]byte, ov*uint64(f.ps))...)
		if _, err := f.r.ReadAt(buf[f.ps:], off+int64(f.ps)); err != nil {
			return nil, fmt.Errorf("page %d: %w", id, err)
		}
	}
	return buf, nil
}

func pageFlags(p []byte) uint16    { return binary.LittleEndian.Uint16(p[8:]) }
func pageCount(p []byte) int       { return int(binary.LittleEndian.Uint16(p[10:])) }
func pageOverflow(p []byte) uint64 { return uint64(binary.LittleEndian.Uint32(p[12:])) }

// boltElem is one element of a branch or leaf page, its key and value
// already bounds-checked against the page.
type boltElem struct {
	flags uint32
	key   []byte
	value []byte // leaf
	child uint64 // branch
}

// elem returns element i of page p (a branch when branch), or an error
// when any of it lies outside p.
func elem(p []byte, i int, branch bool) (boltElem, error) {
	off := boltPageHeaderSize + i*boltElemSize
	if off+boltElemSize > len(p) {
		return boltElem{}, fmt.Errorf("element %d lies past the page", i)
	}
	le := binary.LittleEndian
	e := p[off:]
	var pos, ksize, vsize uint64
	var out boltElem
	if branch {
		pos, ksize = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:]))
		out.child = le.Uint64(e[8:])
	} else {
		out.flags = le.Uint32(e)
		pos, ksize, vsize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
	}
	start := uint64(off) + pos
	if start+ksize+vsize > uint64(len(p)) {
		return boltElem{}, fmt.Errorf("element %d: key or value lies past the page", i)
	}
	out.key = p[start : start+ksize]
	out.value = p[start+ksize : start+ksize+vsize]
	return out, nil
}

// readMetas finds the page size and the meta pages as bbolt's Open does
// (getPageSize, then mmap's validation, then DB.meta's choice).
func readMetas(r io.ReaderAt, size int64) (ps int, chosen, other boltMeta, otherOK bool, v boltVerdict, why string) {
	buf := make([]byte, 0x1000)
	ps = 0
	// getPageSizeFromFirstMeta.
	if n, _ := r.ReadAt(buf, 0); n == len(buf) {
		if m, _ := parseBoltMeta(buf); m.valid() {
			ps = int(m.pageSize)
		}
	}
	// getPageSizeFromSecondMeta.
	newer := false
	if ps == 0 {
		for i := 0; i <= 14; i++ {
			pos := int64(1024) << i
			if pos >= size-1024 {
				break
			}
			n, err := r.ReadAt(buf, pos)
			if n == len(buf) || (err == io.EOF && int64(n) == size-pos) {
				if m, ok := parseBoltMeta(buf[:n]); ok && m.valid() {
					ps = int(m.pageSize)
					break
				}
			}
		}
	}
	if ps == 0 {
		// Tell a newer bbolt format from something else.
		for _, pos := range []int64{0, 4096} {
			if n, _ := r.ReadAt(buf, pos); n >= boltPageHeaderSize+boltMetaSize {
				if m, _ := parseBoltMeta(buf[:n]); m.magic == boltMagic && m.sumOK && m.version != boltVersion {
					newer = true
					why = fmt.Sprintf("bbolt format version %d (this version reads %d)", m.version, boltVersion)
				}
			}
		}
		if newer {
			return 0, boltMeta{}, boltMeta{}, false, boltNewer, why
		}
		return 0, boltMeta{}, boltMeta{}, false, boltNotBolt, "no valid bbolt meta page"
	}
	if ps < 1024 || ps > 1<<16 || ps&(ps-1) != 0 {
		return 0, boltMeta{}, boltMeta{}, false, boltDamaged, fmt.Sprintf("page size %d", ps)
	}
	var metas [2]boltMeta
	var ok [2]bool
	for i := range 2 {
		b := make([]byte, boltPageHeaderSize+boltMetaSize)
		if n, _ := r.ReadAt(b, int64(i*ps)); n == len(b) {
			metas[i], _ = parseBoltMeta(b)
			ok[i] = metas[i].valid()
		}
	}
	a, b := 0, 1
	if metas[1].txid > metas[0].txid {
		a, b = 1, 0
	}
	switch {
	case ok[a]:
		return ps, metas[a], metas[b], ok[b], boltOK, ""
	case ok[b]:
		return ps, metas[b], metas[a], false, boltOK, ""
	}
	return 0, boltMeta{}, boltMeta{}, false, boltDamaged, "no valid meta page at the page size of the first"
}

// checkBolt says whether bbolt can open the file r (size bytes) with
// NoFreelistSync and use it without panicking, faulting or hanging.
// Its work is bounded: each page of the file is read at most once.
func checkBolt(r io.ReaderAt, size int64) (boltVerdict, error) {
	if size == 0 {
		return boltEmpty, nil
	}
	ps, m, _, _, v, why := readMetas(r, size)
	if v != boltOK {
		return v, errors.New(why)
	}
	if int(m.pageSize) != ps {
		return boltDamaged, fmt.Errorf("meta (txid %d): page size %d, the file's is %d", m.txid, m.pageSize, ps)
	}
	f := &boltFile{r: r, size: size, ps: ps, hwm: m.pgid, maxPages: uint64(size) / uint64(ps)}
	// A truncated file: bbolt maps past its end and faults on the pages
	// it lost.
	if m.pgid > f.maxPages {
		return boltDamaged, fmt.Errorf("meta (txid %d) counts %d pages, the file holds %d (%d bytes): truncated", m.txid, m.pgid, f.maxPages, size)
	}
	if m.pgid < 3 || m.root < 2 || m.root >= m.pgid {
		return boltDamaged, fmt.Errorf("meta (txid %d): root page %d, high-water mark %d", m.txid, m.root, m.pgid)
	}
	c := &boltChecker{f: f, visited: make([]bool, m.pgid)}
	c.visited[0], c.visited[1] = true, true
	if err := c.bucket(m.root, 0); err != nil {
		return boltDamaged, err
	}
	if m.freelist != boltNoFreelist {
		if err := c.freelist(m.freelist); err != nil {
			return boltDamaged, err
		}
	}
	return boltOK, nil
}

// boltChecker walks the tree of one meta.
type boltChecker struct {
	f       *boltFile
	visited []bool // page ids reached (the high-water mark bounds it)
}

// bucket checks the tree of a bucket whose root page is root, and the
// buckets nested in it.
func (c *boltChecker) bucket(root uint64, depth int) error {
	if depth > boltMaxDepth {
		return fmt.Errorf("buckets nested more than %d deep", boltMaxDepth)
	}
	_, _, err := c.tree(root, nil, nil, 0, depth)
	return err
}

// tree checks the subtree at id (all keys in [lo, hi) when set), as bbolt's
// verifyPageReachable and recursivelyCheckPageKeyOrderInternal do, and
// returns its least and greatest keys; the buckets its leaves hold are
// checked too.
func (c *boltChecker) tree(id uint64, lo, hi []byte, level, nest int) (least, greatest []byte, err error) {
	if level > boltMaxDepth {
		return nil, nil, fmt.Errorf("page %d: tree deeper than %d", id, boltMaxDepth)
	}
	p, err := c.f.page(id)
	if err != nil {
		return nil, nil, err
	}
	for i := id; i <= id+pageOverflow(p); i++ {
		if c.visited[i] {
			return nil, nil, fmt.Errorf("page %d: reached twice", i)
		}
		c.visited[i] = true
	}
	n := pageCount(p)
	if n == 0xFFFF {
		// bbolt's node.write refuses to write that many back (a panic).
		return nil, nil, fmt.Errorf("page %d: %d elements", id, n)
	}
	switch pageFlags(p) {
	case boltBranchPage:
		if n == 0 {
			return nil, nil, fmt.Errorf("page %d: empty branch", id)
		}
		elems := make([]boltElem, n)
		for i := range elems {
			if elems[i], err = elem(p, i, true); err != nil {
				return nil, nil, fmt.Errorf("page %d: %w", id, err)
			}
		}
		running := lo
		for i, e := range elems {
			if err := keyOrder(id, i, e.key, running, hi); err != nil {
				return nil, nil, err
			}
			next := hi
			if i < n-1 {
				next = elems[i+1].key
			}
			childLeast, childGreatest, err := c.tree(e.child, e.key, next, level+1, nest)
			if err != nil {
				return nil, nil, err
			}
			// bbolt finds a child in its parent by the child's first
			// key when it writes it back; another key would leave the
			// old page referenced after it is freed.
			if !bytes.Equal(childLeast, e.key) {
				return nil, nil, fmt.Errorf("page %d: key %d is not the first key of page %d", id, i, e.child)
			}
			running = childGreatest
		}
		return elems[0].key, running, nil
	case boltLeafPage:
		return c.leaf(id, p, lo, hi, nest)
	}
	return nil, nil, fmt.Errorf("page %d: type %#x where a branch or leaf page goes", id, pageFlags(p))
}

// leaf checks the elements of a leaf page (or an inline bucket's page)
// and the buckets they hold.
func (c *boltChecker) leaf(id uint64, p []byte, lo, hi []byte, nest int) (least, greatest []byte, err error) {
	n := pageCount(p)
	running := lo
	for i := range n {
		e, err := elem(p, i, false)
		if err != nil {
			return nil, nil, fmt.Errorf("page %d: %w", id, err)
		}
		if err := keyOrder(id, i, e.key, running, hi); err != nil {
			return nil, nil, err
		}
		if i == 0 {
			least = e.key
		}
		running = e.key
		if e.flags&boltBucketLeaf != 0 {
			if err := c.nested(id, e, nest+1); err != nil {
				return nil, nil, err
			}
		}
	}
	if n == 0 {
		return nil, nil, nil
	}
	return least, running, nil
}

// nested checks the bucket stored in leaf element e of page id.
func (c *boltChecker) nested(id uint64, e boltElem, nest int) error {
	if len(e.value) < boltBucketHeader {
		return fmt.Errorf("page %d: bucket %q: header of %d bytes", id, e.key, len(e.value))
	}
	root := binary.LittleEndian.Uint64(e.value)
	if root != 0 {
		return c.bucket(root, nest)
	}
	// An inline bucket: a leaf page inside the value. bbolt's walk skips
	// what such a page points to, so a bucket in it (which bbolt never
	// writes inline) would hold pages the freelist gives away.
	p := e.value[boltBucketHeader:]
	if len(p) < boltPageHeaderSize || pageFlags(p) != boltLeafPage || pageCount(p) == 0xFFFF {
		return fmt.Errorf("page %d: inline bucket %q is not a leaf page", id, e.key)
	}
	if binary.LittleEndian.Uint64(p) != 0 {
		// bbolt would free the page this id names when the bucket
		// outgrows its inline page.
		return fmt.Errorf("page %d: inline bucket %q names page %d", id, e.key, binary.LittleEndian.Uint64(p))
	}
	for i := range pageCount(p) {
		ie, err := elem(p, i, false)
		if err != nil {
			return fmt.Errorf("page %d: inline bucket %q: %w", id, e.key, err)
		}
		if ie.flags&boltBucketLeaf != 0 {
			return fmt.Errorf("page %d: inline bucket %q holds a bucket", id, e.key)
		}
	}
	_, _, err := c.leaf(id, p, nil, nil, nest)
	return err
}

// keyOrder is bbolt's verifyKeyOrder, and refuses the empty key, which
// bbolt never writes and panics on when it writes a page back.
func keyOrder(id uint64, i int, key, prev, hi []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("page %d: key %d is empty", id, i)
	}
	if i == 0 && prev != nil && bytes.Compare(prev, key) > 0 {
		return fmt.Errorf("page %d: first key below its parent's", id)
	}
	if i > 0 && bytes.Compare(prev, key) >= 0 {
		return fmt.Errorf("page %d: key %d out of order", id, i)
	}
	if hi != nil && bytes.Compare(key, hi) >= 0 {
		return fmt.Errorf("page %d: key %d at or past the next key of its parent", id, i)
	}
	return nil
}

// freelist checks a persisted freelist: its page, and ids that are
// distinct, below the high-water mark and not in use.
func (c *boltChecker) freelist(id uint64) error {
	p, err := c.f.page(id)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	if pageFlags(p) != boltFreelistPage {
		return fmt.Errorf("freelist: page %d has type %#x", id, pageFlags(p))
	}
	for i := id; i <= id+pageOverflow(p); i++ {
		if c.visited[i] {
			return fmt.Errorf("freelist: page %d is also in the tree", i)
		}
		c.visited[i] = true
	}
	idx, n := 0, uint64(pageCount(p))
	if n == 0xFFFF {
		if len(p) < boltPageHeaderSize+8 {
			return errors.New("freelist: no count")
		}
		idx, n = 1, binary.LittleEndian.Uint64(p[boltPageHeaderSize:])
	}
	if n > uint64(len(p)-boltPageHeaderSize)/8-uint64(idx) {
		return fmt.Errorf("freelist: %d ids do not fit its page", n)
	}
	free := make(map[uint64]bool, n)
	for i := range n {
		fid := binary.LittleEndian.Uint64(p[boltPageHeaderSize+8*(uint64(idx)+i):])
		if fid < 2 || fid >= c.f.hwm || c.visited[fid] || free[fid] {
			return fmt.Errorf("freelist: page %d cannot be free", fid)
		}
		free[fid] = true
	}
	return nil
}
