package kelviqtest

// fifo is a queue of objects in the order they were stored, each with its
// estimated size, numbered from 0 for the first ever pushed: a number
// stays the object's while the older ones are dropped, so indexes can hold
// numbers. Its backing array is reallocated as it fills, to about twice the
// objects it holds, so dropped ones free their memory.
type fifo[T any] struct {
	items []fifoItem[T]
	base  int64 // the number of items[0]
	bytes int64 // sum of the sizes
}

type fifoItem[T any] struct {
	v    T
	size int64
}

// push appends v and returns its number.
func (q *fifo[T]) push(v T, size int64) int64 {
	q.items = append(q.items, fifoItem[T]{v, size})
	q.bytes += size
	return q.base + int64(len(q.items)) - 1
}

// get returns the object numbered n, if still held.
func (q *fifo[T]) get(n int64) (T, bool) {
	i := n - q.base
	if i < 0 || i >= int64(len(q.items)) {
		var zero T
		return zero, false
	}
	return q.items[i].v, true
}

// replace changes the object numbered n (held) and its size.
func (q *fifo[T]) replace(n int64, v T, size int64) {
	it := &q.items[n-q.base]
	q.bytes += size - it.size
	it.v, it.size = v, size
}

// pop drops the oldest object and returns it with its number. The queue
// must not be empty.
func (q *fifo[T]) pop() (T, int64) {
	it := q.items[0]
	q.items[0] = fifoItem[T]{} // let it be collected
	q.items = q.items[1:]
	n := q.base
	q.base++
	q.bytes -= it.size
	if len(q.items) == 0 {
		q.items = nil // a fresh array next time, not the tail of this one
	}
	return it.v, n
}

// remove drops the held object numbered n; the newer ones are renumbered
// one lower (renumber is called for each, oldest first, with its value and
// its old and new numbers, so that indexes can follow). It costs a pass
// over the newer objects: for the rare object that must go out of turn.
func (q *fifo[T]) remove(n int64, renumber func(v T, from, to int64)) {
	i := int(n - q.base)
	q.bytes -= q.items[i].size
	copy(q.items[i:], q.items[i+1:])
	q.items[len(q.items)-1] = fifoItem[T]{}
	q.items = q.items[:len(q.items)-1]
	for j := i; j < len(q.items); j++ {
		renumber(q.items[j].v, q.base+int64(j)+1, q.base+int64(j))
	}
	if len(q.items) == 0 {
		q.items = nil
	}
}

// len is how many objects are held.
func (q *fifo[T]) len() int { return len(q.items) }

// at returns the i-th held object, oldest first.
func (q *fifo[T]) at(i int) T { return q.items[i].v }

// oldestSize is the size of the oldest object, 0 when empty.
func (q *fifo[T]) oldestSize() int64 {
	if len(q.items) == 0 {
		return 0
	}
	return q.items[0].size
}

// clear drops everything, keeping the numbering.
func (q *fifo[T]) clear() {
	q.base += int64(len(q.items))
	q.items, q.bytes = nil, 0
}
