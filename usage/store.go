package usage

// store is where the outbox lives: a bbolt file (boltStore) or process
// memory (memStore). Records are kept by sequence number; which record
// belongs to which (customer, feature) the Reporter keeps in memory,
// rebuilt from load at start. Every method is atomic: it happens
// completely or not at all.
type store interface {
	// commit applies a batch in one transaction, durably (written and
	// synced) before it returns: it stores each report (setting its seq),
	// in order, deletes each delete's records (and their marks), and sets
	// or removes each mark's in-flight marks.
	commit(batch []*writeReq) error
	// load calls fn for every stored record, in order, for a fresh start,
	// saying whether it carries an in-flight mark. A record that cannot
	// be decoded is moved to the dead-letter bucket (corrupt counts them);
	// one of a newer format is left in place (newer counts them).
	load(fn func(rec record, sending bool)) (corrupt, newer int, err error)
	// get returns the records of seqs.
	get(seqs []uint64) ([]record, error)
	// deadLetter moves recs to the dead-letter bucket, with the reason,
	// and removes their marks.
	deadLetter(recs []record, reason string) error
	// deadLetters returns what the dead-letter bucket holds.
	deadLetters() ([]DeadLetter, error)
	close() error
}
