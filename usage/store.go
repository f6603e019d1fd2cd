package usage

// store is where the outbox lives: a bbolt file (boltStore) or process
// memory (memStore). Every method is atomic: it happens completely or not
// at all.
type store interface {
	// append stores the records of a batch, in order, durably (written and
	// synced) before it returns, and sets each one's seq.
	append(batch []*writeReq) error
	// pending returns how many records each pair has, for a fresh start.
	pending() (map[string]int, error)
	// read returns up to max of pair's oldest records, in order. A record
	// that cannot be decoded stops the read: when it is the first, read
	// returns its raw key as corrupt and no records.
	read(pair string, max int) (recs []record, corrupt []byte, err error)
	// remove deletes pair's records up to seq upTo, included, and says how
	// many it deleted.
	remove(pair string, upTo uint64) (int, error)
	// deadLetter moves recs of pair (or the one corrupt key) from the
	// outbox to the dead-letter bucket, with the reason.
	deadLetter(pair string, recs []record, corrupt []byte, reason string) error
	// deadLetters returns what the dead-letter bucket holds.
	deadLetters() ([]DeadLetter, error)
	close() error
}
