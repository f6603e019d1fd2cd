package usage

import (
	"slices"
	"sync"
)

// memStore keeps the outbox in memory (WithMemory): lost on a crash.
type memStore struct {
	mu    sync.Mutex
	seq   uint64
	pairs map[string][]record
	dead  []DeadLetter
}

func newMemStore() *memStore { return &memStore{pairs: map[string][]record{}} }

func (s *memStore) append(batch []*writeReq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range batch {
		s.seq++
		w.rec.seq = s.seq
		s.pairs[w.pair] = append(s.pairs[w.pair], w.rec)
	}
	return nil
}

func (s *memStore) pending() (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.pairs))
	for k, v := range s.pairs {
		out[k] = len(v)
	}
	return out, nil
}

func (s *memStore) read(pair string, max int) ([]record, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.pairs[pair]
	return slices.Clone(recs[:min(max, len(recs))]), nil, nil
}

func (s *memStore) remove(pair string, upTo uint64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cut(pair, upTo), nil
}

// cut drops pair's records up to upTo; s.mu is held.
func (s *memStore) cut(pair string, upTo uint64) int {
	recs := s.pairs[pair]
	n := 0
	for n < len(recs) && recs[n].seq <= upTo {
		n++
	}
	if n == len(recs) {
		delete(s.pairs, pair)
	} else {
		s.pairs[pair] = recs[n:]
	}
	return n
}

func (s *memStore) deadLetter(pair string, recs []record, _ []byte, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	s.cut(pair, recs[len(recs)-1].seq)
	for _, r := range recs {
		s.dead = append(s.dead, DeadLetter{Report: r.report(pair), Reason: reason})
	}
	return nil
}

func (s *memStore) deadLetters() ([]DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dead), nil
}

func (s *memStore) close() error { return nil }
