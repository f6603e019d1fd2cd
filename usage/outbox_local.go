package usage

import (
	"container/heap"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// localLeaseTTL is how long a lease of a local outbox (file, memory)
// lasts. Only the one Reporter of the outbox claims, so a lease expires
// only after a request that outlived it, which the sender prevents (it
// bounds each request to end before Expires); long enough for the
// default request timeout and the settling after it.
const localLeaseTTL = 2 * time.Minute

// localIndex is the scheduling state the file and memory outboxes share:
// per pair its queued entries, its not-before time and its lease, with
// two heaps so that Claim and Summary cost what they return, not the
// number of pairs. Its methods are called with mu held.
type localIndex struct {
	mu    sync.Mutex
	pairs map[string]*localPair
	// due holds every pair of pairs, by when it may be claimed next
	// (localPair.at): one with entries is then due; one without is then
	// released (the pause after its last request is over).
	due pairHeap
	// oldest holds the pairs with entries, by their first entry's time.
	oldest  pairHeap
	queued  int64
	dead    int64
	tokens  uint64
	leaseTT time.Duration
}

// localPair is one (customer, feature) of a localIndex.
type localPair struct {
	key       string // pairKey
	entries   []localEntry
	notBefore int64 // Unix nanoseconds
	token     string
	expires   int64 // of the lease, when token is set
	duePos    int   // in localIndex.due, -1 when not in it
	oldPos    int   // in localIndex.oldest, -1 when not in it
}

// localEntry is one queued record: the memory outbox keeps the record
// itself, the file outbox its seq and time (the rest is in the file).
type localEntry struct {
	seq      uint64
	storedAt int64
	sending  bool
	rec      *record // memory only
}

// at is when p may be claimed (or released) next.
func (p *localPair) at() int64 {
	if p.token != "" {
		return max(p.expires, p.notBefore)
	}
	return p.notBefore
}

func newLocalIndex() *localIndex {
	x := &localIndex{pairs: map[string]*localPair{}, leaseTT: localLeaseTTL}
	x.due = pairHeap{key: func(p *localPair) int64 { return p.at() }, pos: func(p *localPair) *int { return &p.duePos }}
	x.oldest = pairHeap{key: func(p *localPair) int64 { return p.entries[0].storedAt }, pos: func(p *localPair) *int { return &p.oldPos }}
	return x
}

// add queues e for pair key, after what the pair holds.
func (x *localIndex) add(key string, e localEntry) {
	p := x.pairs[key]
	if p == nil {
		p = &localPair{key: key, duePos: -1, oldPos: -1}
		x.pairs[key] = p
		x.due.set(p)
	}
	p.entries = append(p.entries, e)
	x.queued++
	if len(p.entries) == 1 {
		x.oldest.set(p)
	}
}

// checkClaim refuses Claim limits that could lease nothing (or a pair
// with no records, held for a whole lease).
func checkClaim(maxPairs, perPair int) error {
	if maxPairs <= 0 || perPair <= 0 {
		return fmt.Errorf("usage: Claim(maxPairs %d, perPair %d): both must be positive", maxPairs, perPair)
	}
	return nil
}

// checkLease refuses a lease this package did not make (nil, no token)
// and a record count out of its range, before anything is changed: a
// careless caller of the exported outboxes gets an error, not a panic.
func checkLease(op string, l *Lease, n int) error {
	switch {
	case l == nil || l.Token == "":
		return fmt.Errorf("usage: %s: not a lease of this outbox", op)
	case n < 0 || n > len(l.Records):
		return fmt.Errorf("usage: %s: %d records of a lease of %d", op, n, len(l.Records))
	}
	return nil
}

// claim leases up to maxPairs due pairs with up to perPair entries each.
func (x *localIndex) claim(now time.Time, maxPairs, perPair int) (leases []*Lease, entries [][]localEntry, next time.Time) {
	n := now.UnixNano()
	for len(leases) < maxPairs && x.due.Len() > 0 {
		p := x.due.ps[0]
		if p.at() > n {
			break
		}
		if len(p.entries) == 0 {
			// Idle, and its pause is over (or its lease expired with
			// nothing left): forget it, so memory follows active pairs.
			x.due.remove(p)
			delete(x.pairs, p.key)
			continue
		}
		x.tokens++
		p.token = strconv.FormatUint(x.tokens, 10)
		p.expires = n + int64(x.leaseTT)
		x.due.set(p)
		es := slices.Clone(p.entries[:min(perPair, len(p.entries))])
		c, f, _ := splitPairKey(p.key)
		l := &Lease{CustomerID: c, FeatureID: f, Expires: time.Unix(0, p.expires), Token: p.token, Records: make([]Record, len(es))}
		for i, e := range es {
			l.Records[i] = Record{ID: strconv.FormatUint(e.seq, 10), Sending: e.sending}
		}
		leases = append(leases, l)
		entries = append(entries, es)
	}
	if x.due.Len() > 0 {
		next = time.Unix(0, x.due.ps[0].at())
	}
	return leases, entries, next
}

// leased returns l's pair when l is still its lease.
func (x *localIndex) leased(l *Lease) *localPair {
	p := x.pairs[pairKey(l.CustomerID, l.FeatureID)]
	if p == nil || p.token != l.Token || l.Token == "" {
		return nil
	}
	return p
}

// drop removes the entries of seqs from l's pair, wherever they are.
func (x *localIndex) drop(l *Lease, seqs []uint64) {
	p := x.pairs[pairKey(l.CustomerID, l.FeatureID)]
	if p == nil || len(seqs) == 0 {
		return
	}
	gone := make(map[uint64]bool, len(seqs))
	for _, s := range seqs {
		gone[s] = true
	}
	before := len(p.entries)
	p.entries = slices.DeleteFunc(p.entries, func(e localEntry) bool { return gone[e.seq] })
	x.queued -= int64(before - len(p.entries))
	if len(p.entries) == 0 {
		x.oldest.remove(p)
	} else {
		x.oldest.set(p)
	}
}

// end ends l, if it is still its pair's lease, with the pair's next
// not-before; ErrLeaseLost when it was not.
func (x *localIndex) end(l *Lease, notBefore time.Time) error {
	p := x.leased(l)
	if p == nil {
		return ErrLeaseLost
	}
	p.token, p.expires = "", 0
	p.notBefore = notBefore.UnixNano()
	x.due.set(p)
	return nil
}

// mark sets the sending flag of l's first n entries.
func (x *localIndex) mark(l *Lease, n int, sending bool) {
	p := x.pairs[pairKey(l.CustomerID, l.FeatureID)]
	if p == nil {
		return
	}
	ids := map[uint64]bool{}
	for _, s := range leaseSeqs(l, n) {
		ids[s] = true
	}
	for i := range p.entries {
		if ids[p.entries[i].seq] {
			p.entries[i].sending = sending
		}
	}
}

// resetBackoff makes every pair with entries and no lease due now: Flush
// does not wait for the sender's backoff.
func (x *localIndex) resetBackoff(skip map[string]bool) {
	for _, p := range x.pairs {
		if len(p.entries) > 0 && p.token == "" && p.notBefore != 0 && !skip[p.key] {
			p.notBefore = 0
			x.due.set(p)
		}
	}
}

func (x *localIndex) summary() Summary {
	s := Summary{Queued: x.queued, DeadLetters: x.dead}
	if x.oldest.Len() > 0 {
		s.Oldest = time.Unix(0, x.oldest.ps[0].entries[0].storedAt)
	}
	return s
}

func (x *localIndex) pending() []PairQueue {
	var out []PairQueue
	for _, p := range x.pairs {
		if len(p.entries) == 0 {
			continue
		}
		c, f, _ := splitPairKey(p.key)
		oldest := p.entries[0].storedAt
		for _, e := range p.entries {
			oldest = min(oldest, e.storedAt)
		}
		out = append(out, PairQueue{CustomerID: c, FeatureID: f, Reports: len(p.entries), Oldest: time.Unix(0, oldest), Leased: p.token != ""})
	}
	slices.SortFunc(out, func(a, b PairQueue) int { return a.Oldest.Compare(b.Oldest) })
	return out
}

// leaseSeqs returns the seqs of l's first n records (IDs this package made).
func leaseSeqs(l *Lease, n int) []uint64 {
	seqs := make([]uint64, 0, n)
	for _, r := range l.Records[:min(n, len(l.Records))] {
		if s, err := strconv.ParseUint(r.ID, 10, 64); err == nil {
			seqs = append(seqs, s)
		}
	}
	return seqs
}

// pairHeap is a min-heap of pairs by key, each pair knowing its position.
type pairHeap struct {
	ps  []*localPair
	key func(*localPair) int64
	pos func(*localPair) *int
}

func (h *pairHeap) Len() int           { return len(h.ps) }
func (h *pairHeap) Less(i, j int) bool { return h.key(h.ps[i]) < h.key(h.ps[j]) }
func (h *pairHeap) Swap(i, j int) {
	h.ps[i], h.ps[j] = h.ps[j], h.ps[i]
	*h.pos(h.ps[i]), *h.pos(h.ps[j]) = i, j
}
func (h *pairHeap) Push(x any) {
	p := x.(*localPair)
	*h.pos(p) = len(h.ps)
	h.ps = append(h.ps, p)
}
func (h *pairHeap) Pop() any {
	p := h.ps[len(h.ps)-1]
	h.ps[len(h.ps)-1] = nil
	h.ps = h.ps[:len(h.ps)-1]
	*h.pos(p) = -1
	return p
}

// set puts p in the heap, or moves it after its key changed.
func (h *pairHeap) set(p *localPair) {
	if i := *h.pos(p); i >= 0 {
		heap.Fix(h, i)
		return
	}
	heap.Push(h, p)
}

// remove takes p out of the heap, when it is in.
func (h *pairHeap) remove(p *localPair) {
	if i := *h.pos(p); i >= 0 {
		heap.Remove(h, i)
	}
}
