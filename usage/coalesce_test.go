package usage

import (
	"math"
	"math/rand/v2"
	"testing"
)

func d(v int64) record { return record{value: v} }
func s(v int64) record { return record{value: v, set: true} }

func TestCoalesce(t *testing.T) {
	cases := []struct {
		name  string
		recs  []record
		set   bool
		value int
		n     int
	}{
		{"DELTAs add up", []record{d(1), d(2), d(3)}, false, 6, 3},
		{"one negative DELTA", []record{d(-5)}, false, -5, 1},
		{"SET replaces what came before", []record{d(1), d(9), s(5)}, true, 5, 3},
		{"DELTA after SET adds to it", []record{d(1), s(5), d(2), d(-3)}, true, 4, 4},
		{"a later SET wins", []record{s(5), d(2), s(1)}, true, 1, 3},
		{"stops before a negative SET", []record{s(1), d(-2), d(5)}, true, 1, 1},
		{"stops before an overflow", []record{d(math.MaxInt), d(1)}, false, math.MaxInt, 1},
		{"stops before an underflow", []record{d(math.MinInt), d(-1)}, false, math.MinInt, 1},
	}
	for _, tc := range cases {
		for i := range tc.recs {
			tc.recs[i].seq = uint64(i + 10)
		}
		m := coalesce(tc.recs)
		if m.set != tc.set || m.value != tc.value || m.n != tc.n {
			t.Errorf("%s: got set=%v value=%d n=%d, want set=%v value=%d n=%d", tc.name, m.set, m.value, m.n, tc.set, tc.value, tc.n)
		}
	}
}

// Sending the merged requests one after the other has the effect of
// sending every report, whatever the usage was before.
func TestCoalescedRequestsHaveTheSameEffect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	apply := func(u int, set bool, v int) int {
		if set {
			return v
		}
		return u + v
	}
	for range 2000 {
		recs := make([]record, 1+rng.IntN(30))
		for i := range recs {
			if rng.IntN(5) == 0 {
				recs[i] = s(int64(rng.IntN(50)))
			} else {
				recs[i] = d(int64(rng.IntN(41) - 20))
			}
			recs[i].seq = uint64(i + 1)
		}
		start := rng.IntN(100) - 50
		want := start
		for _, r := range recs {
			want = apply(want, r.set, int(r.value))
		}
		got, rest, requests := start, recs, 0
		for len(rest) > 0 {
			m := coalesce(rest)
			if m.n < 1 {
				t.Fatalf("coalesce covered nothing of %v", rest)
			}
			if m.set && m.value < 0 {
				t.Fatalf("a negative SET from %v", rest[:m.n])
			}
			got = apply(got, m.set, m.value)
			rest = rest[m.n:]
			requests++
		}
		if got != want {
			t.Fatalf("reports %v from %d: merged effect %d, want %d", recs, start, got, want)
		}
	}
}

func TestRecordRoundTripAndCorruption(t *testing.T) {
	r := record{seq: 7, pair: pairKey("cust", "feat"), value: -42, set: false, storedAt: 1234567890}
	got, err := decodeRecord(seqKey(7), r.encode())
	if err != nil || got != r {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, r)
	}
	if rep := got.report(); rep.CustomerID != "cust" || rep.FeatureID != "feat" || rep.Value != -42 || rep.Behaviour != "DELTA" {
		t.Errorf("report = %+v", rep)
	}
	enc := r.encode()
	for name, v := range map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{9}, enc[1:]...),
		"behaviour":   append([]byte{enc[0], 7}, enc[2:]...),
		"truncated":   enc[:len(enc)-1],
		"extra bytes": append(append([]byte{}, enc...), 0),
		"bad pair":    append([]byte{recordVersion, 0, 3, 'a', 'b', 'c'}, enc[len(enc)-6:]...),
	} {
		if _, err := decodeRecord(seqKey(7), v); err == nil {
			t.Errorf("%s: decoded a corrupt record", name)
		}
	}
	if _, err := decodeRecord([]byte{1, 2}, enc); err == nil {
		t.Error("decoded a record under a short key")
	}
}

func TestPairKeysAreUnambiguous(t *testing.T) {
	a, b := pairKey("ab", "c"), pairKey("a", "bc")
	if a == b {
		t.Fatal("(ab, c) and (a, bc) share a key")
	}
	for _, k := range []string{a, b} {
		c, f, ok := splitPairKey(k)
		if !ok || pairKey(c, f) != k {
			t.Errorf("split(%q) = %q, %q, %v", k, c, f, ok)
		}
	}
	if _, _, ok := splitPairKey("\x05ab"); ok {
		t.Error("split a malformed key")
	}
}
