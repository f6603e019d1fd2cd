package usage_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/usage"
	bolt "go.etcd.io/bbolt"
)

// The child side of the damaged-outbox tests: the test binary runs itself
// with corruptChildEnv set to a file, opens it with NewReporter, and
// prints what it got, so that a crash or a hang is the child's, seen by
// the parent.
const corruptChildEnv = "KELVIQ_USAGE_CORRUPT_CHILD"

// childHang is how long a child may take before it counts as hung.
const childHang = 10 * time.Second

func TestCorruptOutboxChild(t *testing.T) {
	path := os.Getenv(corruptChildEnv)
	if path == "" {
		t.Skip("the child of TestDamagedOutboxes")
	}
	r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
	if err != nil {
		fmt.Printf("CHILD error corrupt=%v %s\n", errors.Is(err, usage.ErrCorrupt), strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = r.Close(ctx)
	seqs, err := storedSeqs(path)
	if err != nil {
		fmt.Printf("CHILD unreadable %v\n", err)
		return
	}
	fmt.Printf("CHILD open %s\n", joinSeqs(seqs))
}

// storedSeqs lists the seqs in the outbox and dead buckets of a whole
// outbox file.
func storedSeqs(path string) ([]uint64, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var seqs []uint64
	err = db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{"outbox", "dead"} {
			if b := tx.Bucket([]byte(name)); b != nil {
				_ = b.ForEach(func(k, _ []byte) error {
					if len(k) == 8 {
						seqs = append(seqs, uint64(k[0])<<56|uint64(k[1])<<48|uint64(k[2])<<40|uint64(k[3])<<32|
							uint64(k[4])<<24|uint64(k[5])<<16|uint64(k[6])<<8|uint64(k[7]))
					}
					return nil
				})
			}
		}
		return nil
	})
	slices.Sort(seqs)
	return slices.Compact(seqs), err
}

func joinSeqs(seqs []uint64) string {
	s := make([]string, len(seqs))
	for i, q := range seqs {
		s[i] = strconv.FormatUint(q, 10)
	}
	return strings.Join(s, ",")
}

// childResult is what one child said.
type childResult struct {
	kind    string // "open", "error", "unreadable"; "" when it said nothing
	corrupt bool   // the error wraps ErrCorrupt
	msg     string
	seqs    map[uint64]bool
	output  string
}

// runChild opens path in a child process and kills it after childHang.
func runChild(t *testing.T, path string) (childResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childHang)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCorruptOutboxChild$", "-test.count=1", "-test.v=false")
	// (A race-enabled child otherwise sleeps a second at exit.)
	cmd.Env = append(os.Environ(), corruptChildEnv+"="+path, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	res := childResult{output: out.String()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("hung: killed after %v", childHang)
	}
	if err != nil {
		return res, fmt.Errorf("crashed: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(res.output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "CHILD ")
		if !ok {
			continue
		}
		res.kind, line, _ = strings.Cut(line, " ")
		switch res.kind {
		case "error":
			res.corrupt = strings.HasPrefix(line, "corrupt=true")
			res.msg = line
		case "open":
			res.seqs = map[uint64]bool{}
			for _, f := range strings.Split(line, ",") {
				if q, err := strconv.ParseUint(f, 10, 64); err == nil {
					res.seqs[q] = true
				}
			}
		default:
			res.msg = line
		}
	}
	if res.kind == "" {
		return res, errors.New("said nothing")
	}
	return res, nil
}

const realOutboxReports = 3000

var realOutbox struct {
	once sync.Once
	b    []byte
	err  error
}

// writeRealOutbox returns the bytes of an outbox file holding
// realOutboxReports reports (seqs 1…n), written by a Reporter whose
// server is down and closed, made once per test binary.
func writeRealOutbox(t *testing.T) []byte {
	t.Helper()
	realOutbox.once.Do(func() {
		dir, err := os.MkdirTemp("", "usage-real-outbox")
		if err != nil {
			realOutbox.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "outbox.db")
		r, err := usage.NewReporter(newClient(t, "http://"+deadAddr(t)), usage.WithPath(path))
		if err != nil {
			realOutbox.err = err
			return
		}
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for w := range 20 {
			wg.Go(func() {
				for i := range realOutboxReports / 20 {
					b := api.ReportUsageRequestBehaviourDELTA
					if i%7 == 0 {
						b = api.ReportUsageRequestBehaviourSET
					}
					if err := r.Report(context.Background(), fmt.Sprintf("customer-%03d", (w*31+i)%97), fmt.Sprintf("feature-%d", i%5), i, b); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = r.Close(ctx)
		close(errs)
		if err := <-errs; err != nil {
			realOutbox.err = err
			return
		}
		realOutbox.b, realOutbox.err = os.ReadFile(path)
	})
	if realOutbox.err != nil {
		t.Fatal(realOutbox.err)
	}
	return realOutbox.b
}

// damage is one way to break a copy of the outbox: the damaged bytes and
// the pages it touched.
type damage struct {
	name    string
	b       []byte
	touched map[uint64]bool
}

func flipBytes(rng *rand.Rand, orig []byte, ps, n, from int) damage {
	b := bytes.Clone(orig)
	d := damage{name: fmt.Sprintf("%d byte flips from %d", n, from), touched: map[uint64]bool{}}
	for range n {
		off := from + rng.IntN(len(b)-from)
		b[off] ^= byte(1 + rng.IntN(255))
		d.touched[uint64(off/ps)] = true
	}
	d.b = b
	return d
}

func flipBit(rng *rand.Rand, orig []byte, ps int) damage {
	b := bytes.Clone(orig)
	off := rng.IntN(len(b))
	bit := rng.IntN(8)
	b[off] ^= 1 << bit
	return damage{name: fmt.Sprintf("bit %d of byte %d", bit, off), b: b, touched: map[uint64]bool{uint64(off / ps): true}}
}

func truncate(rng *rand.Rand, orig []byte, ps int) damage {
	n := rng.IntN(len(orig))
	d := damage{name: fmt.Sprintf("truncated to %d bytes", n), b: bytes.Clone(orig[:n]), touched: map[uint64]bool{}}
	for p := uint64(n / ps); p < uint64(len(orig)/ps); p++ {
		d.touched[p] = true
	}
	return d
}

// flipInLeaf flips bytes inside one leaf page of the outbox bucket.
func flipInLeaf(rng *rand.Rand, orig []byte, pm *usage.OutboxPageMap) damage {
	leaves := slices.Sorted(mapsKeys(pm.Leaves))
	leaf := leaves[rng.IntN(len(leaves))]
	b := bytes.Clone(orig)
	for range 8 {
		b[int(leaf)*pm.PageSize+rng.IntN(pm.PageSize)] ^= byte(1 + rng.IntN(255))
	}
	return damage{name: fmt.Sprintf("8 byte flips in leaf page %d", leaf), b: b, touched: map[uint64]bool{leaf: true}}
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestDamagedOutboxes opens damaged copies of a real outbox, each in a
// child process: none may crash or hang, every open keeps what the
// damage left whole, and a replaced file is kept aside byte for byte.
// KELVIQ_USAGE_CORRUPT_COPIES sets how many (200 by default).
func TestDamagedOutboxes(t *testing.T) {
	if os.Getenv(corruptChildEnv) != "" {
		t.Skip("in the child")
	}
	copies := 200
	if s := os.Getenv("KELVIQ_USAGE_CORRUPT_COPIES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 5 {
			t.Fatalf("KELVIQ_USAGE_CORRUPT_COPIES=%q: want a number ≥ 5", s)
		}
		copies = n
	}
	orig := writeRealOutbox(t)
	dir := t.TempDir()
	origPath := filepath.Join(dir, "orig.db")
	if err := os.WriteFile(origPath, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	pm, err := usage.MapOutbox(origPath)
	if err != nil {
		t.Fatal(err)
	}
	written := 0
	for _, seqs := range pm.Leaves {
		written += len(seqs)
	}
	if written != realOutboxReports {
		t.Fatalf("the real outbox holds %d records, want %d", written, realOutboxReports)
	}
	t.Logf("real outbox: %d bytes, page size %d, %d outbox leaves, %d other pages in the tree",
		len(orig), pm.PageSize, len(pm.Leaves), len(pm.Structural))

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KELVIQ_USAGE_CORRUPT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (KELVIQ_USAGE_CORRUPT_SEED)", seed)
	rng := rand.New(rand.NewPCG(seed, 19))
	ps := pm.PageSize
	var damages []damage
	for i := range copies {
		switch i % 10 {
		case 0, 1, 2:
			damages = append(damages, flipBytes(rng, orig, ps, 16, 2*ps))
		case 3, 4:
			damages = append(damages, flipBytes(rng, orig, ps, 16, 0))
		case 5, 6:
			damages = append(damages, flipBit(rng, orig, ps))
		case 7, 8:
			damages = append(damages, truncate(rng, orig, ps))
		case 9:
			damages = append(damages, flipInLeaf(rng, orig, pm))
		}
	}

	type outcome struct {
		d   damage
		res childResult
		err error
		dir string
	}
	outcomes := make([]outcome, len(damages))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, d := range damages {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cdir := filepath.Join(dir, strconv.Itoa(i))
			if err := os.Mkdir(cdir, 0o700); err != nil {
				outcomes[i] = outcome{d: d, err: err}
				return
			}
			path := filepath.Join(cdir, "outbox.db")
			if err := os.WriteFile(path, d.b, 0o600); err != nil {
				outcomes[i] = outcome{d: d, err: err}
				return
			}
			res, err := runChild(t, path)
			outcomes[i] = outcome{d: d, res: res, err: err, dir: cdir}
		})
	}
	wg.Wait()

	counts := map[string]int{}
	for i, o := range outcomes {
		if o.err != nil {
			t.Errorf("copy %d (%s): the child %v\n%s", i, o.d.name, o.err, o.res.output)
			continue
		}
		path := filepath.Join(o.dir, "outbox.db")
		asides, _ := filepath.Glob(path + ".corrupt-*")
		now, _ := os.ReadFile(path)
		switch o.res.kind {
		case "error":
			counts["error"]++
			if !o.res.corrupt || !strings.Contains(o.res.msg, path) {
				t.Errorf("copy %d (%s): error %q does not wrap ErrCorrupt naming the file", i, o.d.name, o.res.msg)
			}
			if !bytes.Equal(now, o.d.b) || len(asides) != 0 {
				t.Errorf("copy %d (%s): refused, but the file was changed or moved", i, o.d.name)
			}
			continue
		case "open":
		default:
			t.Errorf("copy %d (%s): %s %s", i, o.d.name, o.res.kind, o.res.msg)
			continue
		}
		switch len(asides) {
		case 0:
			counts["opened as it was"]++
		case 1:
			counts["salvaged"]++
			kept, _ := os.ReadFile(asides[0])
			if !bytes.Equal(kept, o.d.b) {
				t.Errorf("copy %d (%s): the file kept aside is not the damaged file", i, o.d.name)
			}
		default:
			t.Errorf("copy %d (%s): %d files kept aside", i, o.d.name, len(asides))
		}
		if len(o.res.seqs) > written {
			t.Errorf("copy %d (%s): %d records after the open, %d were written", i, o.d.name, len(o.res.seqs), written)
		}
		// Damage that left the metas, the root bucket and the outbox's
		// branches whole: every record on an untouched leaf is kept.
		strict := true
		for p := range o.d.touched {
			if pm.Structural[p] {
				strict = false
			}
		}
		if !strict {
			continue
		}
		counts["strictly checked"]++
		missing := 0
		for leaf, seqs := range pm.Leaves {
			if o.d.touched[leaf] {
				continue
			}
			for _, q := range seqs {
				if !o.res.seqs[q] {
					missing++
				}
			}
		}
		if missing > 0 {
			t.Errorf("copy %d (%s): %d records of untouched pages lost; %d recovered", i, o.d.name, missing, len(o.res.seqs))
		}
	}
	t.Logf("%d copies: %v", len(outcomes), counts)
}

// A branch that names itself (a cycle, where bbolt's walk never ends) and
// one that names a page twice: the open returns, in a child, with every
// record of the pages still named.
func TestCyclicOutboxOpens(t *testing.T) {
	if os.Getenv(corruptChildEnv) != "" {
		t.Skip("in the child")
	}
	orig := writeRealOutbox(t)
	dir := t.TempDir()
	pm, err := usage.MapOutbox(filepath.Join(dir, "x")) // (an error: no file)
	if err == nil {
		t.Fatal("MapOutbox of no file")
	}
	if err := os.WriteFile(filepath.Join(dir, "orig.db"), orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if pm, err = usage.MapOutbox(filepath.Join(dir, "orig.db")); err != nil {
		t.Fatal(err)
	}
	root := int(pm.OutboxRoot) * pm.PageSize
	if orig[root+8] != 0x01 { // flags: a branch
		t.Skip("the outbox is one leaf")
	}
	child := func(b []byte, i int) uint64 { // pgid of element i
		return binary.LittleEndian.Uint64(b[root+16+16*i+8:])
	}
	for name, edit := range map[string]func(b []byte) (lost uint64){
		"names itself": func(b []byte) uint64 {
			lost := child(b, 0)
			binary.LittleEndian.PutUint64(b[root+16+8:], pm.OutboxRoot)
			return lost
		},
		"names a page twice": func(b []byte) uint64 {
			lost := child(b, 1)
			binary.LittleEndian.PutUint64(b[root+16+16+8:], child(b, 2))
			return lost
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(orig)
			lost := edit(b)
			if v, _ := usage.CheckBoltBytes(b); v != "damaged" {
				t.Fatalf("the checker says %s", v)
			}
			path := filepath.Join(t.TempDir(), "outbox.db")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := runChild(t, path)
			if err != nil {
				t.Fatalf("the child %v\n%s", err, res.output)
			}
			if res.kind != "open" {
				t.Fatalf("the child: %s %s", res.kind, res.msg)
			}
			want := realOutboxReports - len(pm.Leaves[lost])
			for leaf, seqs := range pm.Leaves {
				if leaf == lost {
					continue
				}
				for _, q := range seqs {
					if !res.seqs[q] {
						t.Fatalf("seq %d of page %d lost; %d of %d kept", q, leaf, len(res.seqs), want)
					}
				}
			}
			if len(res.seqs) != want {
				t.Errorf("%d records kept, want %d", len(res.seqs), want)
			}
		})
	}
}
