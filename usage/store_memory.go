package usage

import (
	"fmt"
	"slices"
	"sync"
)

// memStore keeps the outbox in memory (WithMemory): lost on a crash.
type memStore struct {
	mu   sync.Mutex
	seq  uint64
	recs map[uint64]record
	dead []DeadLetter
}

func newMemStore() *memStore { return &memStore{recs: map[uint64]record{}} }

func (s *memStore) commit(batch []*writeReq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range batch {
		switch w.op {
		case opDelete:
			for _, seq := range w.seqs {
				delete(s.recs, seq)
			}
			continue
		case opMark, opUnmark:
			continue // a mark matters only after a crash, which memory does not survive
		}
		s.seq++
		w.rec.seq = s.seq
		s.recs[s.seq] = w.rec
	}
	return nil
}

func (s *memStore) load(func(record, bool)) (int, int, error) { return 0, 0, nil } // always empty at start

func (s *memStore) get(seqs []uint64) ([]record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]record, len(seqs))
	for i, seq := range seqs {
		r, ok := s.recs[seq]
		if !ok {
			return nil, fmt.Errorf("usage: record %d is missing", seq)
		}
		out[i] = r
	}
	return out, nil
}

func (s *memStore) deadLetter(recs []record, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		delete(s.recs, r.seq)
		s.dead = append(s.dead, DeadLetter{Report: r.report(), Reason: reason})
	}
	return nil
}

func (s *memStore) deadLetters() ([]DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dead), nil
}

func (s *memStore) close() error { return nil }
