package usage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileOutbox keeps reports in one bbolt file (WithPath): a report Append
// acknowledged is written and synced to disk, and survives a crash of the
// process or the machine. It belongs to one Reporter at a time, which
// bbolt's lock on the file enforces across processes.
//
// Concurrent writes share one transaction and one sync (group commit):
// the reports of many Report calls, and the sender's deletes and marks,
// go to disk together.
type FileOutbox struct {
	path string
	db   *bolt.DB
	x    *localIndex

	ops       chan *fileOp
	committed chan struct{} // closed when the committer has stopped
	closeMu   sync.RWMutex  // held for reading while an op is submitted
	closed    bool

	// What opening found: records that could not be read (moved to the
	// dead letters) and records of a newer format (left in place).
	corrupt, newer int

	commits, commitNanos int64 // guarded by x.mu; for benchmarks
}

var _ Outbox = (*FileOutbox)(nil)

// fileOp is one change of the file, made in the committer's transaction.
type fileOp struct {
	apply func(tx *bolt.Tx) error
	// after runs with the index's lock held once the transaction is
	// committed, to make the index say what the file says.
	after func()
	done  chan error
}

// OpenFileOutbox opens the outbox file at path, created when it does not
// exist (mode 0600), and reads what it holds. A file another FileOutbox
// (in this process or another) holds fails with an error wrapping
// ErrLocked that names the file.
func OpenFileOutbox(path string) (*FileOutbox, error) {
	cfg := defaultConfig()
	return openFileOutbox(path, &cfg)
}

// openFileOutbox opens the file with cfg's lock timeout, and logs the salvage
// of a damaged file to cfg's logger.
func openFileOutbox(path string, cfg *config) (*FileOutbox, error) {
	s, err := openBolt(path, cfg)
	if err != nil {
		return nil, err
	}
	o := &FileOutbox{path: path, db: s.db, x: newLocalIndex(), ops: make(chan *fileOp, 1024), committed: make(chan struct{})}
	if err := o.load(); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("usage: reading the outbox file %s: %w", path, err)
	}
	go o.committer()
	return o, nil
}

// load builds the index from the file. A record that cannot be decoded is
// moved to the dead letters; one of a newer format is left in place.
func (o *FileOutbox) load() error {
	var bad [][]byte
	err := o.db.View(func(tx *bolt.Tx) error {
		sending := tx.Bucket(sendingBucket)
		o.x.dead = int64(tx.Bucket(deadBucket).Stats().KeyN)
		interned := map[string]string{}
		return tx.Bucket(outboxBucket).ForEach(func(k, v []byte) error {
			r, err := decodeRecord(k, v)
			switch {
			case errors.Is(err, errNewerFormat):
				o.newer++
			case err != nil:
				bad = append(bad, bytes.Clone(k))
			default:
				key, ok := interned[r.pair]
				if !ok {
					key = r.pair
					interned[key] = key
				}
				o.x.add(key, localEntry{seq: r.seq, storedAt: r.storedAt, sending: sending.Get(k) != nil})
			}
			return nil
		})
	})
	if err != nil || len(bad) == 0 {
		return err
	}
	// Unreadable records cannot be sent: keep them aside, not in the way.
	o.corrupt = len(bad)
	at := time.Now()
	err = o.db.Update(func(tx *bolt.Tx) error {
		for _, k := range bad {
			if err := moveDead(tx, k, DeadLetter{Reason: ReasonUnreadable, Error: errCorrupt.Error(), At: at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		o.x.dead += int64(len(bad))
	}
	return err
}

// submit runs op in the committer's next transaction and waits for it.
// Once submitted, it waits for the commit whatever ctx says, so that an
// error always means the change was not made.
func (o *FileOutbox) submit(ctx context.Context, apply func(*bolt.Tx) error, after func()) error {
	op := &fileOp{apply: apply, after: after, done: make(chan error, 1)}
	o.closeMu.RLock()
	if o.closed {
		o.closeMu.RUnlock()
		return o.unavailable(ErrClosed)
	}
	select {
	case o.ops <- op:
	case <-ctx.Done():
		o.closeMu.RUnlock()
		return ctx.Err()
	}
	o.closeMu.RUnlock()
	return <-op.done
}

func (o *FileOutbox) unavailable(err error) error {
	return wrapUnavailable("the outbox file "+o.path, err)
}

// committer is the group commit: it takes every op waiting and makes them
// in one transaction, with one sync. While it syncs, more ops queue up
// for the next one, so syncs per second stay bounded by the disk while
// the changes per sync grow with the load. (bbolt's own db.Batch waits a
// fixed 10 ms or for a full batch of 1000, which measured ~760 reports/s
// with 8 reporters.)
func (o *FileOutbox) committer() {
	defer close(o.committed)
	batch := make([]*fileOp, 0, 64)
	for first := range o.ops {
		batch = gatherOps(o.ops, append(batch[:0], first))
		start := time.Now()
		err := o.db.Update(func(tx *bolt.Tx) error {
			// Keys only grow: a split page is never written into again,
			// so fill it (bbolt's default of half suits random inserts).
			tx.Bucket(outboxBucket).FillPercent = 0.95
			for _, op := range batch {
				if err := op.apply(tx); err != nil {
					return err
				}
			}
			return nil
		})
		o.x.mu.Lock()
		o.commits++
		o.commitNanos += int64(time.Since(start))
		if err == nil {
			for _, op := range batch {
				if op.after != nil {
					op.after()
				}
			}
		}
		o.x.mu.Unlock()
		if err != nil {
			err = o.unavailable(err)
		}
		for i, op := range batch {
			op.done <- err
			batch[i] = nil
		}
	}
}

// maxBatch bounds the ops of one commit, so one transaction stays small
// and the first op's wait is bounded.
const maxBatch = 4096

// maxYields bounds the yields of one gather.
const maxYields = 2

// gatherOps adds to batch every op waiting. When the queue runs dry it
// yields the processor once and looks again: writers whose previous
// change was just acknowledged are about to queue their next one, and on
// a busy machine (two cores, here) they may not have run yet. A yield
// costs microseconds; each op it adds saves a whole commit.
func gatherOps[T any](ch chan T, batch []T) []T {
	for yields := 0; len(batch) < maxBatch; {
		select {
		case w, ok := <-ch:
			if !ok {
				return batch
			}
			batch = append(batch, w)
		default:
			if yields == maxYields {
				return batch
			}
			yields++
			runtime.Gosched()
		}
	}
	return batch
}

// Append stores reports in one transaction (shared with concurrent
// writes) and returns once it is synced.
func (o *FileOutbox) Append(ctx context.Context, reports []Report) error {
	if len(reports) == 0 {
		return nil
	}
	recs := make([]record, len(reports))
	for i, r := range reports {
		recs[i] = recordOf(r)
	}
	return o.submit(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		for i := range recs {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			recs[i].seq = seq
			if err := b.Put(seqKey(seq), recs[i].encode()); err != nil {
				return err
			}
		}
		return nil
	}, func() {
		for _, r := range recs {
			key := r.pair
			if p := o.x.pairs[key]; p != nil {
				key = p.key // one copy of the key per pair
			}
			o.x.add(key, localEntry{seq: r.seq, storedAt: r.storedAt})
		}
	})
}

// Claim leases due pairs (see Outbox) and reads their records.
func (o *FileOutbox) Claim(_ context.Context, now time.Time, maxPairs, perPair int) ([]*Lease, time.Time, error) {
	if err := checkClaim(maxPairs, perPair); err != nil {
		return nil, time.Time{}, err
	}
	o.x.mu.Lock()
	leases, _, next := o.x.claim(now, maxPairs, perPair)
	o.x.mu.Unlock()
	if len(leases) == 0 {
		return nil, next, nil
	}
	// Only the lease holder removes a pair's records: what the index
	// leased is in the file.
	unreadable := map[*Lease][]uint64{}
	err := o.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		for _, l := range leases {
			kept := l.Records[:0]
			for _, rec := range l.Records {
				seq, _ := strconv.ParseUint(rec.ID, 10, 64)
				k := seqKey(seq)
				r, err := decodeRecord(k, b.Get(k))
				if err != nil {
					unreadable[l] = append(unreadable[l], seq)
					continue
				}
				rec.Report = r.report()
				kept = append(kept, rec)
			}
			l.Records = kept
		}
		return nil
	})
	if len(unreadable) > 0 {
		// Damaged since the file was opened: out of the queue, so that
		// the pair is not claimed for them again and again; left in the
		// file, where the next open moves them to the dead letters.
		o.x.mu.Lock()
		for l, seqs := range unreadable {
			o.x.drop(l, seqs)
		}
		o.x.mu.Unlock()
	}
	if err != nil {
		o.x.mu.Lock()
		for _, l := range leases {
			_ = o.x.end(l, time.Time{})
		}
		o.x.mu.Unlock()
		return nil, next, o.unavailable(err)
	}
	return leases, next, nil
}

// Mark durably marks l's first n records in flight.
func (o *FileOutbox) Mark(ctx context.Context, l *Lease, n int) error {
	return o.setMarks(ctx, l, n, true)
}

// Unmark removes the marks of l's first n records.
func (o *FileOutbox) Unmark(ctx context.Context, l *Lease, n int) error {
	return o.setMarks(ctx, l, n, false)
}

func (o *FileOutbox) setMarks(ctx context.Context, l *Lease, n int, on bool) error {
	if err := checkLease("Mark", l, n); err != nil {
		return err
	}
	seqs := leaseSeqs(l, n)
	if len(seqs) == 0 {
		return nil
	}
	return o.submit(ctx, func(tx *bolt.Tx) error {
		sending := tx.Bucket(sendingBucket)
		for _, s := range seqs {
			var err error
			if on {
				err = sending.Put(seqKey(s), []byte{1})
			} else {
				err = sending.Delete(seqKey(s))
			}
			if err != nil {
				return err
			}
		}
		return nil
	}, func() { o.x.mark(l, n, on) })
}

// Done ends l, deleting its first delivered records (see Outbox).
func (o *FileOutbox) Done(ctx context.Context, l *Lease, delivered int, notBefore time.Time) error {
	if err := checkLease("Done", l, delivered); err != nil {
		return err
	}
	seqs := leaseSeqs(l, delivered)
	if len(seqs) == 0 {
		o.x.mu.Lock()
		defer o.x.mu.Unlock()
		return o.x.end(l, notBefore)
	}
	var lost error
	err := o.submit(ctx, func(tx *bolt.Tx) error {
		out, sending := tx.Bucket(outboxBucket), tx.Bucket(sendingBucket)
		for _, s := range seqs {
			if err := out.Delete(seqKey(s)); err != nil {
				return err
			}
			if err := sending.Delete(seqKey(s)); err != nil {
				return err
			}
		}
		return nil
	}, func() {
		o.x.drop(l, seqs)
		lost = o.x.end(l, notBefore)
	})
	if err != nil {
		return err
	}
	return lost
}

// DeadLetter moves l's first n records to the dead letters (see Outbox).
func (o *FileOutbox) DeadLetter(ctx context.Context, l *Lease, n int, dl DeadLetter, notBefore time.Time) error {
	if err := checkLease("DeadLetter", l, n); err != nil {
		return err
	}
	seqs := leaseSeqs(l, n)
	moved := 0
	var lost error
	err := o.submit(ctx, func(tx *bolt.Tx) error {
		moved = 0
		for _, s := range seqs {
			if tx.Bucket(outboxBucket).Get(seqKey(s)) == nil {
				continue
			}
			if err := moveDead(tx, seqKey(s), dl); err != nil {
				return err
			}
			moved++
		}
		return nil
	}, func() {
		o.x.drop(l, seqs)
		o.x.dead += int64(moved)
		lost = o.x.end(l, notBefore)
	})
	if err != nil {
		return err
	}
	return lost
}

// DeadLetters returns the dead letters, oldest first; those written by
// earlier versions of this package too.
func (o *FileOutbox) DeadLetters(context.Context) ([]DeadLetter, error) {
	var out []DeadLetter
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(deadBucket).ForEach(func(k, v []byte) error {
			d, _ := decodeDead(k, v)
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, o.unavailable(err)
	}
	return out, nil
}

// deadPage is how many dead letters RequeueDeadLetters and
// PurgeDeadLetters read, match and change at a time: a million in one
// transaction held every Report for seconds and took a gigabyte.
const deadPage = 10_000

// RequeueDeadLetters queues again the dead letters match accepts (nil:
// all), after what their pairs hold, in their order, deadPage per
// transaction (each all or none; after an error the count is of the pages
// before it). An unreadable dead letter is never requeued. match runs on
// the caller's goroutine, before the change, not inside a transaction.
func (o *FileOutbox) RequeueDeadLetters(ctx context.Context, match func(DeadLetter) bool) (int, error) {
	total := 0
	err := o.eachDeadPage(match, true, func(keys [][]byte) error {
		n, err := o.requeue(ctx, keys)
		total += n
		return err
	})
	return total, err
}

func (o *FileOutbox) requeue(ctx context.Context, keys [][]byte) (int, error) {
	var back []record
	err := o.submit(ctx, func(tx *bolt.Tx) error {
		back = back[:0]
		out, dead := tx.Bucket(outboxBucket), tx.Bucket(deadBucket)
		for _, k := range keys {
			v := dead.Get(k)
			if v == nil {
				continue // purged meanwhile
			}
			_, raw := decodeDead(k, v)
			r, err := decodeRecord(k, raw)
			if raw == nil || err != nil {
				continue
			}
			raw = bytes.Clone(raw) // (v is the page's; the delete below reuses it)
			seq, err := out.NextSequence()
			if err != nil {
				return err
			}
			r.seq = seq
			if err := out.Put(seqKey(seq), raw); err != nil {
				return err
			}
			if err := dead.Delete(k); err != nil {
				return err
			}
			back = append(back, r)
		}
		return nil
	}, func() {
		for _, r := range back {
			o.x.add(r.pair, localEntry{seq: r.seq, storedAt: r.storedAt})
		}
		o.x.dead -= int64(len(back))
	})
	if err != nil {
		return 0, err
	}
	return len(back), nil
}

// PurgeDeadLetters deletes the dead letters match accepts (nil: all),
// deadPage per transaction. match runs on the caller's goroutine, before
// the change.
func (o *FileOutbox) PurgeDeadLetters(ctx context.Context, match func(DeadLetter) bool) (int, error) {
	total := 0
	err := o.eachDeadPage(match, false, func(keys [][]byte) error {
		n := 0
		err := o.submit(ctx, func(tx *bolt.Tx) error {
			n = 0
			dead := tx.Bucket(deadBucket)
			for _, k := range keys {
				if dead.Get(k) == nil {
					continue
				}
				if err := dead.Delete(k); err != nil {
					return err
				}
				n++
			}
			return nil
		}, func() { o.x.dead -= int64(n) })
		if err == nil {
			total += n
		}
		return err
	})
	return total, err
}

// eachDeadPage reads the dead letters in key order, deadPage at a time,
// and calls do with the keys of those match accepts (readable ones only,
// when readable). do's changes do not move the pages still to read: a
// requeued record gets a new key in the outbox, not in the dead letters.
func (o *FileOutbox) eachDeadPage(match func(DeadLetter) bool, readable bool, do func(keys [][]byte) error) error {
	type entry struct {
		k []byte
		d DeadLetter
	}
	var after []byte
	for {
		var page []entry
		err := o.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(deadBucket).Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(page) < deadPage; k, v = c.Next() {
				d, raw := decodeDead(k, v)
				if raw == nil && readable {
					after = bytes.Clone(k)
					continue
				}
				page = append(page, entry{bytes.Clone(k), d})
				after = page[len(page)-1].k
			}
			return nil
		})
		if err != nil {
			return o.unavailable(err)
		}
		if len(page) == 0 {
			return nil
		}
		var keys [][]byte
		for _, e := range page {
			if match == nil || match(e.d) {
				keys = append(keys, e.k)
			}
		}
		if len(keys) > 0 {
			if err := do(keys); err != nil {
				return err
			}
		}
		if len(page) < deadPage {
			return nil
		}
	}
}

// Pending returns what is queued per pair, oldest first.
func (o *FileOutbox) Pending(context.Context) ([]PairQueue, error) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	return o.x.pending(), nil
}

// Summary returns the outbox's totals, from memory.
func (o *FileOutbox) Summary(context.Context) (Summary, error) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	return o.x.summary(), nil
}

// Close waits for the writes in progress and closes the file, releasing
// its lock. A second Close returns nil.
func (o *FileOutbox) Close() error {
	o.closeMu.Lock()
	if o.closed {
		o.closeMu.Unlock()
		return nil
	}
	o.closed = true
	close(o.ops)
	o.closeMu.Unlock()
	<-o.committed
	if err := o.db.Close(); err != nil {
		return fmt.Errorf("usage: closing the outbox file %s: %w", o.path, err)
	}
	return nil
}

// local is the Reporter's access to the index (Flush, tests).
func (o *FileOutbox) local() *localIndex { return o.x }

// commitStats returns the number of commits and their total time.
func (o *FileOutbox) commitStats() (int64, time.Duration) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	return o.commits, time.Duration(o.commitNanos)
}
