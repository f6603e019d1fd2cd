package usage

import (
	"runtime"
	"time"
)

// writeReq is one report on its way to the store, or (op not opReport)
// a change to stored records: the delete of records kelviq took, or the
// in-flight mark of AtMostOnce (see markSending).
type writeReq struct {
	op   writeOp
	rec  record     // opReport
	seqs []uint64   // the other ops
	done chan error // capacity 1: the writer never blocks on it
}

// writeOp is what a writeReq does.
type writeOp int

const (
	opReport writeOp = iota // store rec
	opDelete                // delete seqs (kelviq took them)
	opMark                  // mark seqs as in flight
	opUnmark                // unmark seqs: their request was not applied
)

// maxBatch bounds the reports of one commit, so one transaction stays
// small and the first report's wait is bounded.
const maxBatch = 4096

// writer is the group commit: a single goroutine takes every report
// waiting in r.writes and stores them all in one transaction, with one
// sync. While it syncs, more reports queue up and go into the next
// commit, so the number of syncs per second stays bounded by the disk
// while the number of reports per sync grows with the load. The sender's
// deletes go through it too, so that delivering does not add commits of
// its own. (bbolt's own
// db.Batch waits a fixed 10 ms or for a full batch of 1000 to start
// a commit, which measured ~760 reports/s with 8 reporters.)
func (r *Reporter) writer() {
	defer close(r.writerDone)
	batch := make([]*writeReq, 0, 64)
	for first := range r.writes {
		batch = r.gather(append(batch[:0], first))
		start := time.Now()
		err := r.store.commit(batch)
		r.commits.Add(1)
		r.commitNanos.Add(int64(time.Since(start)))
		if err != nil {
			err = &storeError{err}
			r.log.Error("usage: storing reports failed; Report returns the error", "batch", len(batch), "error", err)
		} else {
			stored := 0
			r.mu.Lock()
			for _, w := range batch {
				if w.op == opReport {
					p := r.pair(w.rec.pair)
					p.seqs = append(p.seqs, w.rec.seq)
					stored++
				}
			}
			r.mu.Unlock()
			if stored > 0 {
				r.stats.stored.Add(int64(stored))
				r.kick()
			}
		}
		for i, w := range batch {
			w.done <- err
			batch[i] = nil
		}
	}
}

// storeError is a failure of the outbox's storage.
type storeError struct{ err error }

func (e *storeError) Error() string { return "usage: outbox storage failed: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// remove deletes records through the group commit. The caller is a send
// or a flush, which Close waits for before it stops the writer.
func (r *Reporter) remove(seqs []uint64) error { return r.change(opDelete, seqs) }

// markSending durably marks records as in the request about to be sent,
// under AtMostOnce: a start that finds a DELTA so marked knows its
// request may have reached kelviq before a crash, and dead-letters it as
// uncertain instead of sending it again. A delete or a move to the
// dead letters removes the mark; unmarkSending removes it after a request
// kelviq did not apply.
func (r *Reporter) markSending(seqs []uint64) error { return r.change(opMark, seqs) }

func (r *Reporter) unmarkSending(seqs []uint64) error { return r.change(opUnmark, seqs) }

// change applies op to seqs through the group commit.
func (r *Reporter) change(op writeOp, seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	w := &writeReq{op: op, seqs: seqs, done: make(chan error, 1)}
	r.writes <- w
	return <-w.done
}

// kick wakes the sender.
func (r *Reporter) kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// gather adds to batch every report waiting in r.writes. When the queue
// runs dry it yields the processor once and looks again: reporters whose
// previous report was just acknowledged are about to queue their next
// one, and on a busy machine (two cores, here) they may not have run yet.
// A yield costs microseconds; each report it adds saves a whole commit.
func (r *Reporter) gather(batch []*writeReq) []*writeReq {
	for yields := 0; len(batch) < maxBatch; {
		select {
		case w, ok := <-r.writes:
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

// maxYields bounds the yields of one gather.
const maxYields = 2
