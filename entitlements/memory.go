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
type snapshot struct {
	features  map[string]Entitlement
	fetchedAt time.Time

	// retryAt, on the copy of a last known value kept after a failed fetch,
	// is when to try kelviq again: until then the value is served stale
	// without a call, so an outage costs one call per customer per
	// staleRetryInterval instead of one per check.
	retryAt time.Time
	lastErr error // the failure that made this copy

	// refreshing is set once a refresh-ahead of this snapshot has started.
	refreshing atomic.Bool
}

// age is how old the answer is at now.
func (s *snapshot) age(now time.Time) time.Duration { return now.Sub(s.fetchedAt) }

// memory is the per-process level of the cache: customer → snapshot, at most
// max customers, the least recently used evicted first.
//
// It is golang-lru's Cache, split in shards by a hash of the customer so
// that concurrent checks of different customers do not queue on one lock
// (a Get moves the entry to the front of its list, so it takes the lock
// exclusively). Recency is then per shard: the customer evicted is the least
// recently used of its shard, which is what a bound on memory needs.
type memory struct {
	seed   maphash.Seed
	shards []*lru.Cache[string, *snapshot]
	mask   uint64
}

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
	per := (max + n - 1) / n
	for range n {
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

func (m *memory) get(customer string) *snapshot {
	s, _ := m.shard(customer).Get(customer)
	return s
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
