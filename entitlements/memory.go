package entitlements

import (
	"hash/maphash"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// snapshot is one answer of kelviq for one customer, aggregated. It is
// never modified once in the cache (but for the refreshing flag): a newer
// answer replaces it whole.
//
// The fields a hit reads (access, fetchedAt, touchedAge, broken,
// refreshing) come first, so that they share a cache line or two: with many
// customers, each check's snapshot is cold, and every line costs a wait on
// memory.
type snapshot struct {
	// access is HasAccess by feature: what the hot path reads, in a map of
	// small values that stays in a few cache lines (a map of Entitlements
	// spreads over kilobytes, and a cold check then waits on memory).
	access    map[string]bool
	fetchedAt time.Time
	// touchedAge is the snapshot's age when a hit last marked its customer
	// recently used (see memory.touch).
	touchedAge atomic.Int64
	// broken holds, by feature ID, why kelviq's entries for that feature
	// could not be read (decodeAnswer): such a feature is in neither
	// features nor access, and its checks fail with this error. nil for
	// almost every answer.
	broken map[string]error
	// refreshing is set once a refresh-ahead of this snapshot has started.
	refreshing atomic.Bool
	// origin is where the answer came from: a check that missed memory
	// and finds it there a moment later, fetched by another, is counted
	// by it (Stats).
	origin source

	features map[string]Entitlement

	// retryAt, on the copy of a last known value kept after a failed fetch,
	// is when to try kelviq again: until then the value is served stale
	// without a call, so an outage costs one call per customer per
	// staleRetryInterval (or kelviq's Retry-After, see Checker.retryAfter)
	// instead of one per check.
	retryAt  time.Time
	failedAt time.Time // when the failure that made this copy happened
	lastErr  error     // the failure that made this copy
}

func newSnapshot(features map[string]Entitlement, fetchedAt time.Time) *snapshot {
	access := make(map[string]bool, len(features))
	for id, e := range features {
		access[id] = e.HasAccess
	}
	return &snapshot{features: features, access: access, fetchedAt: fetchedAt}
}

// age is how old the answer is at now.
func (s *snapshot) age(now time.Time) time.Duration { return now.Sub(s.fetchedAt) }

// memory is the per-process level of the cache: customer → snapshot, at most
// max customers, the least recently used evicted first.
//
// It is golang-lru's Cache, split in shards by a hash of the customer so
// that concurrent checks of different customers do not queue on one lock.
// Recency is then per shard: the customer evicted is the least recently
// used of its shard, which is what a bound on memory needs.
//
// With shards, a hit marks its customer recently used at most once per
// touchInterval (Peek, not Get): moving an entry to the front of its list
// takes the shard's lock exclusively and writes to its neighbours, which
// with many customers are cold in the CPU cache. Recency is then exact to
// within touchInterval. A single shard (small bounds) stays exact.
type memory struct {
	seed   maphash.Seed
	shards []*lru.Cache[string, *snapshot]
	mask   uint64
}

// touchInterval is the granularity of recency with shards.
const touchInterval = time.Second

// shardsFor is the number of shards for a bound of max customers: one for
// small bounds, where exact LRU order is cheap and tests can observe it.
func shardsFor(max int) int {
	if max < 4096 {
		return 1
	}
	return 16
}

func newMemory(max int) (*memory, error) {
	n := shardsFor(max)
	m := &memory{seed: maphash.MakeSeed(), mask: uint64(n - 1)}
	// The first max%n shards take one more customer: the capacities add
	// up to max exactly, so the bound holds however customers hash.
	for i := range n {
		per := max / n
		if i < max%n {
			per++
		}
		c, err := lru.New[string, *snapshot](per)
		if err != nil { // only for a size <= 0, which New refuses first
			return nil, err
		}
		m.shards = append(m.shards, c)
	}
	return m, nil
}

func (m *memory) shard(customer string) *lru.Cache[string, *snapshot] {
	if m.mask == 0 {
		return m.shards[0]
	}
	return m.shards[maphash.String(m.seed, customer)&m.mask]
}

// get returns the customer's snapshot and marks it recently used.
func (m *memory) get(customer string) *snapshot {
	s, _ := m.shard(customer).Get(customer)
	return s
}

// peek returns the customer's snapshot; the caller then calls touch.
func (m *memory) peek(customer string) *snapshot {
	if m.mask == 0 {
		return m.get(customer) // exact recency
	}
	s, _ := m.shards[maphash.String(m.seed, customer)&m.mask].Peek(customer)
	return s
}

// touch marks the customer of s, a snapshot of the given age that peek
// returned, recently used unless it was within touchInterval.
func (m *memory) touch(customer string, s *snapshot, age time.Duration) {
	if m.mask == 0 || age-time.Duration(s.touchedAge.Load()) < touchInterval {
		return
	}
	s.touchedAge.Store(int64(age))
	m.shard(customer).Get(customer)
}

func (m *memory) put(customer string, s *snapshot) { m.shard(customer).Add(customer, s) }

func (m *memory) remove(customer string) { m.shard(customer).Remove(customer) }

func (m *memory) len() int {
	n := 0
	for _, s := range m.shards {
		n += s.Len()
	}
	return n
}
