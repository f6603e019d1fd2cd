package usage

import "math"

// merged is the one request that stands for a pair's oldest records.
type merged struct {
	set   bool // behaviour SET (else DELTA)
	value int  // the request's value
	n     int  // how many of the records it covers, from the first
}

// coalesce merges recs, in order, into one request with the same effect:
// DELTAs add up, a SET replaces everything before it, and a DELTA after a
// SET adds to the SET's value. It stops before a record that cannot be
// merged without changing the effect: a sum that would overflow an int,
// or a DELTA that would make a SET negative (a negative SET is refused by
// the API, while the SET and the DELTA apart are accepted). The first
// record is always covered.
func coalesce(recs []record) merged {
	var m merged
	for i, r := range recs {
		v := int(r.value)
		switch {
		case r.set:
			m.set, m.value = true, v
		case i > 0 && addOverflows(m.value, v):
			return m
		case i > 0 && m.set && m.value+v < 0:
			return m
		default:
			m.value += v
		}
		m.n = i + 1
	}
	return m
}

// addOverflows reports whether a+b overflows an int.
func addOverflows(a, b int) bool {
	return (b > 0 && a > math.MaxInt-b) || (b < 0 && a < math.MinInt-b)
}
