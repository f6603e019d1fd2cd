package webhook

import (
	"context"
	"sync"
	"time"
)

// A Store remembers the webhook-ids a handler has seen, so that a repeated delivery is
// acknowledged without calling the callback again. Implementations must be safe for
// concurrent use. Only ids of verified deliveries reach a Store, so a forger cannot fill
// it.
//
// For each verified delivery a handler calls Claim. When Claim answers [ClaimAcquired]
// the handler calls the callback, then Complete if it succeeded or Release if it failed
// (or panicked), so that kelviq's retry of a failed delivery is processed again.
type Store interface {
	// Claim atomically records id as in progress for ttl and answers ClaimAcquired,
	// unless id is already recorded and its ttl has not run out: then it changes nothing
	// and answers ClaimInProgress or ClaimDone. Of several concurrent Claims of one id,
	// at most one answers ClaimAcquired.
	Claim(ctx context.Context, id string, ttl time.Duration) (ClaimResult, error)
	// Complete records id as processed for ttl.
	Complete(ctx context.Context, id string, ttl time.Duration) error
	// Release forgets id, so a later Claim of it answers ClaimAcquired.
	Release(ctx context.Context, id string) error
}

// ClaimResult is the answer of [Store.Claim].
type ClaimResult int

const (
	// ClaimAcquired means the id was not recorded; it now is, as in progress, and the
	// caller processes the delivery.
	ClaimAcquired ClaimResult = iota
	// ClaimInProgress means another delivery of the id is being processed. A handler
	// answers 503 so that kelviq tries again later: answering 2xx would lose the event if
	// that other processing then fails.
	ClaimInProgress
	// ClaimDone means a delivery of the id was processed. A handler answers 200 without
	// calling the callback.
	ClaimDone
)

// String returns the constant's name without its "Claim" prefix.
func (r ClaimResult) String() string {
	switch r {
	case ClaimAcquired:
		return "Acquired"
	case ClaimInProgress:
		return "InProgress"
	case ClaimDone:
		return "Done"
	}
	return "ClaimResult(?)"
}

// MemoryStore is a [Store] in process memory, the default of [NewHandler]. It is safe
// for concurrent use and its zero value is ready to use (with [time.Now] as its clock).
// Expired ids are dropped as it goes, without a background goroutine, so it holds about
// as many ids as deliveries arrived within the ttl. It does not survive a restart and is
// not shared between processes: give several replicas of a receiver a shared Store.
type MemoryStore struct {
	now func() time.Time

	mu        sync.Mutex
	entries   map[string]memoryEntry
	nextSweep time.Time
}

type memoryEntry struct {
	expires time.Time
	done    bool
}

// sweepEvery is how often, at most, a MemoryStore scans for expired ids.
const sweepEvery = time.Minute

// NewMemoryStore returns an empty MemoryStore that reads the time from now, or from
// [time.Now] when now is nil.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	return &MemoryStore{now: now}
}

func (s *MemoryStore) clock() time.Time {
	if s.now == nil {
		return time.Now()
	}
	return s.now()
}

// Claim implements [Store]. It never fails.
func (s *MemoryStore) Claim(_ context.Context, id string, ttl time.Duration) (ClaimResult, error) {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = make(map[string]memoryEntry)
	}
	if !now.Before(s.nextSweep) {
		for k, e := range s.entries {
			if !now.Before(e.expires) {
				delete(s.entries, k)
			}
		}
		s.nextSweep = now.Add(sweepEvery)
	}
	if e, ok := s.entries[id]; ok && now.Before(e.expires) {
		if e.done {
			return ClaimDone, nil
		}
		return ClaimInProgress, nil
	}
	s.entries[id] = memoryEntry{expires: now.Add(ttl)}
	return ClaimAcquired, nil
}

// Complete implements [Store]. It never fails.
func (s *MemoryStore) Complete(_ context.Context, id string, ttl time.Duration) error {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = make(map[string]memoryEntry)
	}
	s.entries[id] = memoryEntry{expires: now.Add(ttl), done: true}
	return nil
}

// Release implements [Store]. It never fails.
func (s *MemoryStore) Release(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id)
	return nil
}

// Len returns the number of ids recorded, including expired ones not yet dropped.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
