package usage

// writeReq is one report on its way to the store.
type writeReq struct {
	pair string
	rec  record
	done chan error // capacity 1: the writer never blocks on it
}

// maxBatch bounds the reports of one commit, so one transaction stays
// small and the first report's wait is bounded.
const maxBatch = 4096

// writer is the group commit: a single goroutine takes every report
// waiting in r.writes and stores them all in one transaction, with one
// sync. While it syncs, more reports queue up and go into the next
// commit, so the number of syncs per second stays bounded by the disk
// while the number of reports per sync grows with the load. (bbolt's own
// db.Batch waits a fixed 10 ms or for a full batch of 1000 to start
// a commit, which measured ~760 reports/s with 8 reporters.)
func (r *Reporter) writer() {
	defer close(r.writerDone)
	batch := make([]*writeReq, 0, 64)
	for first := range r.writes {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case w, ok := <-r.writes:
				if !ok {
					break drain
				}
				batch = append(batch, w)
			default:
				break drain
			}
		}
		err := r.store.append(batch)
		if err != nil {
			err = &storeError{err}
			r.log.Error("usage: storing reports failed; Report returns the error", "reports", len(batch), "error", err)
		} else {
			r.mu.Lock()
			for _, w := range batch {
				r.pair(w.pair).count++
			}
			r.mu.Unlock()
			r.stats.stored.Add(int64(len(batch)))
			r.kick()
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

// kick wakes the sender.
func (r *Reporter) kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}
