package entitlements

import (
	"strconv"
	"testing"
	"time"
)

// sameShard returns n customer IDs that fall in one shard of m.
func sameShard(m *memory, n int) []string {
	var ids []string
	want := m.shard("c0")
	for i := 0; len(ids) < n; i++ {
		id := "c" + strconv.Itoa(i)
		if m.shard(id) == want {
			ids = append(ids, id)
		}
	}
	return ids
}

// With shards, a hit marks its customer recently used at most once per
// touchInterval; eviction is least recently used per shard.
func TestShardedRecency(t *testing.T) {
	m, err := newMemory(4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.shards) != 16 {
		t.Fatalf("%d shards, want 16", len(m.shards))
	}
	per := 4096 / 16 // capacity of a shard
	ids := sameShard(m, per+2)
	snaps := map[string]*snapshot{}
	for _, id := range ids[:per] {
		snaps[id] = newSnapshot(nil, time.Now())
		m.put(id, snaps[id])
	}
	first, second := ids[0], ids[1]

	// A hit within touchInterval of the last one does not promote: first
	// stays the oldest and is evicted by the next customer.
	if s := m.peek(first); s != snaps[first] {
		t.Fatal("peek did not find the customer")
	}
	m.touch(first, snaps[first], touchInterval/2)
	m.put(ids[per], newSnapshot(nil, time.Now()))
	if m.peek(first) != nil {
		t.Fatal("a touch within the interval promoted the customer")
	}

	// A hit past the interval promotes: second is now the oldest.
	m.touch(ids[2], snaps[ids[2]], touchInterval)
	m.touch(second, snaps[second], touchInterval)
	m.put(ids[per+1], newSnapshot(nil, time.Now()))
	if m.peek(second) == nil {
		t.Fatal("a touch past the interval did not promote the customer")
	}
	if m.peek(ids[3]) != nil {
		t.Fatal("the least recently used customer was not the one evicted")
	}
	if got := m.len(); got != per {
		t.Fatalf("len %d, want %d", got, per)
	}
}

// The bound of WithMaxCustomers holds exactly, whatever it is: the shards'
// capacities add up to it (16 shards of ceil(max/16) kept up to 15 more).
func TestMemoryBoundIsExact(t *testing.T) {
	snap := newSnapshot(nil, time.Now())
	for _, max := range []int{1, 7, 4095, 4096, 4097, 5000, 100_003} {
		m, err := newMemory(max)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200_000 {
			m.put("c"+strconv.Itoa(i), snap)
		}
		if got := m.len(); got != max {
			t.Errorf("WithMaxCustomers(%d): %d customers kept after 200,000", max, got)
		}
	}
}
