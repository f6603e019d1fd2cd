package usage

// writeReq is one report on its way to the outbox.
type writeReq struct {
	rep  Report
	done chan error // capacity 1: the writer never blocks on it
}

// writer is the Reporter's group commit: a single goroutine takes every
// report waiting in r.writes and stores them all with one Outbox.Append
// (one transaction and one sync for the file, one round trip for a remote
// outbox). While it waits, more reports queue up and go into the next
// Append, so the number of appends per second stays bounded by the
// storage while the reports per append grow with the load.
func (r *Reporter) writer() {
	defer close(r.writerDone)
	batch := make([]*writeReq, 0, 64)
	reports := make([]Report, 0, 64)
	for first := range r.writes {
		batch = gatherOps(r.writes, append(batch[:0], first))
		reports = reports[:0]
		for _, w := range batch {
			reports = append(reports, w.rep)
		}
		ctx, cancel := settleContext()
		err := r.outbox.Append(ctx, reports)
		cancel()
		r.appends.Add(1)
		if err != nil {
			err = wrapUnavailable("the outbox", err)
			r.log.Error("usage: storing reports failed; Report returns the error", "batch", len(batch), "error", err)
		} else {
			r.stats.stored.Add(int64(len(batch)))
			r.kick()
		}
		for i, w := range batch {
			w.done <- err
			batch[i] = nil
		}
	}
}

// kick wakes the sender.
func (r *Reporter) kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}
