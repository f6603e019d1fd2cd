package usage

import (
	"context"
	"strconv"
	"time"
)

// MemoryOutbox keeps reports in process memory (WithMemory): everything
// it holds is LOST when the process exits or crashes. It belongs to one
// Reporter. Its methods never fail, except after Close.
type MemoryOutbox struct {
	x      *localIndex
	seq    uint64
	dead   []DeadLetter
	closed bool
}

// NewMemoryOutbox returns an empty MemoryOutbox.
func NewMemoryOutbox() *MemoryOutbox { return &MemoryOutbox{x: newLocalIndex()} }

var _ Outbox = (*MemoryOutbox)(nil)

// errMemoryClosed is the error of every method after Close.
var errMemoryClosed = wrapUnavailable("the memory outbox", ErrClosed)

// Append stores reports.
func (o *MemoryOutbox) Append(_ context.Context, reports []Report) error {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	if o.closed {
		return errMemoryClosed
	}
	for _, r := range reports {
		o.seq++
		rec := recordOf(r)
		rec.seq = o.seq
		o.x.add(rec.pair, localEntry{seq: rec.seq, storedAt: rec.storedAt, rec: &rec})
	}
	return nil
}

// Claim leases due pairs (see Outbox).
func (o *MemoryOutbox) Claim(_ context.Context, now time.Time, maxPairs, perPair int) ([]*Lease, time.Time, error) {
	if err := checkClaim(maxPairs, perPair); err != nil {
		return nil, time.Time{}, err
	}
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	if o.closed {
		return nil, time.Time{}, errMemoryClosed
	}
	leases, entries, next := o.x.claim(now, maxPairs, perPair)
	for i, l := range leases {
		for j, e := range entries[i] {
			l.Records[j].Report = e.rec.report()
		}
	}
	return leases, next, nil
}

// Mark marks l's first n records in flight; in memory it matters only to
// a Reporter that claims them again without a restart.
func (o *MemoryOutbox) Mark(_ context.Context, l *Lease, n int) error {
	if err := checkLease("Mark", l, n); err != nil {
		return err
	}
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	o.x.mark(l, n, true)
	return nil
}

// Unmark removes the marks of l's first n records.
func (o *MemoryOutbox) Unmark(_ context.Context, l *Lease, n int) error {
	if err := checkLease("Unmark", l, n); err != nil {
		return err
	}
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	o.x.mark(l, n, false)
	return nil
}

// Done ends l (see Outbox).
func (o *MemoryOutbox) Done(_ context.Context, l *Lease, delivered int, notBefore time.Time) error {
	if err := checkLease("Done", l, delivered); err != nil {
		return err
	}
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	o.x.drop(l, leaseSeqs(l, delivered))
	return o.x.end(l, notBefore)
}

// DeadLetter moves l's first n records to the dead letters (see Outbox).
func (o *MemoryOutbox) DeadLetter(_ context.Context, l *Lease, n int, dl DeadLetter, notBefore time.Time) error {
	if err := checkLease("DeadLetter", l, n); err != nil {
		return err
	}
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	seqs := leaseSeqs(l, n)
	p := o.x.pairs[pairKey(l.CustomerID, l.FeatureID)]
	if p != nil {
		want := map[uint64]bool{}
		for _, s := range seqs {
			want[s] = true
		}
		for _, e := range p.entries {
			if want[e.seq] {
				d := dl
				d.ID, d.Report = strconv.FormatUint(e.seq, 10), e.rec.report()
				o.dead = append(o.dead, d)
			}
		}
	}
	o.x.drop(l, seqs)
	o.x.dead = int64(len(o.dead))
	return o.x.end(l, notBefore)
}

// DeadLetters returns the dead letters, oldest first.
func (o *MemoryOutbox) DeadLetters(context.Context) ([]DeadLetter, error) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	return append([]DeadLetter(nil), o.dead...), nil
}

// RequeueDeadLetters queues again the dead letters match accepts.
func (o *MemoryOutbox) RequeueDeadLetters(_ context.Context, match func(DeadLetter) bool) (int, error) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	if o.closed {
		return 0, errMemoryClosed
	}
	sel := o.selectDead(match)
	n := 0
	kept := o.dead[:0]
	for i, d := range o.dead {
		if !sel[i] || d.Report.CustomerID == "" {
			kept = append(kept, d)
			continue
		}
		o.seq++
		rec := recordOf(d.Report)
		rec.seq = o.seq
		o.x.add(rec.pair, localEntry{seq: rec.seq, storedAt: rec.storedAt, rec: &rec})
		n++
	}
	clear(o.dead[len(kept):])
	o.dead = kept
	o.x.dead = int64(len(o.dead))
	return n, nil
}

// PurgeDeadLetters deletes the dead letters match accepts.
func (o *MemoryOutbox) PurgeDeadLetters(_ context.Context, match func(DeadLetter) bool) (int, error) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	if o.closed {
		return 0, errMemoryClosed
	}
	sel := o.selectDead(match)
	before := len(o.dead)
	kept := o.dead[:0]
	for i, d := range o.dead {
		if !sel[i] {
			kept = append(kept, d)
		}
	}
	clear(o.dead[len(kept):])
	o.dead = kept
	o.x.dead = int64(len(o.dead))
	return before - len(o.dead), nil
}

// selectDead runs match on every dead letter before anything changes: a
// match that panics part way must not leave the list half compacted (a
// dead letter twice, or one both requeued and dead).
func (o *MemoryOutbox) selectDead(match func(DeadLetter) bool) []bool {
	sel := make([]bool, len(o.dead))
	for i, d := range o.dead {
		sel[i] = match == nil || match(d)
	}
	return sel
}

// Pending returns what is queued per pair, oldest first.
func (o *MemoryOutbox) Pending(context.Context) ([]PairQueue, error) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	return o.x.pending(), nil
}

// Summary returns the outbox's totals.
func (o *MemoryOutbox) Summary(context.Context) (Summary, error) {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	return o.x.summary(), nil
}

// Close drops everything the outbox holds.
func (o *MemoryOutbox) Close() error {
	o.x.mu.Lock()
	defer o.x.mu.Unlock()
	o.closed = true
	return nil
}

// local is the Reporter's access to the index (Flush, tests).
func (o *MemoryOutbox) local() *localIndex { return o.x }
