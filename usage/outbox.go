package usage

import (
	"context"
	"errors"
	"time"
)

// Outbox is where a Reporter's reports wait until kelviq has them. The
// package has two: a bbolt file (WithPath, OpenFileOutbox) and process
// memory (WithMemory, NewMemoryOutbox); usage/redisoutbox keeps one outbox
// for a whole fleet in Redis. WithOutbox gives a Reporter another one.
//
// An Outbox keeps reports per (customer, feature) pair, oldest first, and
// schedules pairs: a pair is due when it has reports, nobody holds a lease
// on it, and its not-before time has passed. A Reporter's sender claims
// due pairs (Claim), sends each lease's records in one request, and ends
// every lease with exactly one of Done (kelviq took some, or none were
// sent) or DeadLetter. A lease that is never ended (its process died)
// expires at Lease.Expires, and the pair is then due again, for any
// Reporter on the outbox: that is how a fleet takes over a lost instance's
// reports. Several Reporters, in one process or many, may share an Outbox
// that says it can be shared (redisoutbox does; the file and memory ones
// belong to one Reporter).
//
// Every method is atomic: it happens completely or not at all. A method
// that cannot reach the outbox's storage returns an error wrapping
// ErrUnavailable that names the storage. Implementations are safe for
// concurrent use.
type Outbox interface {
	// Append stores reports, in order, all or none. A nil error
	// acknowledges every one: it is stored as durably as the outbox
	// documents, and is sent by some Reporter on the outbox. Reports are
	// already validated.
	Append(ctx context.Context, reports []Report) error

	// Claim leases up to maxPairs due pairs (see Outbox) for the caller,
	// each with up to perPair of the pair's oldest records, in order.
	// now is the caller's clock, compared with not-before times. next is
	// when the caller should claim again although nothing woke it: the
	// earliest not-before of a pair that has records, or a poll interval
	// for an outbox other processes write to; zero means "only when
	// woken" (a local outbox with nothing scheduled). Its cost must grow
	// with the pairs it returns, not with all pairs the outbox holds.
	// perPair may be large (the Reporter asks for up to 100,000, what one
	// request may merge); an outbox may return fewer, and a lease with
	// no records is ended with Done(l, 0, …).
	Claim(ctx context.Context, now time.Time, maxPairs, perPair int) (leases []*Lease, next time.Time, err error)

	// Mark durably marks the first n records of l as in flight, before
	// their request is sent (AtMostOnce), so that whoever claims them
	// after a crash sees Record.Sending and does not send them again.
	// Unmark removes the marks of the first n records of l: kelviq did
	// not get them.
	Mark(ctx context.Context, l *Lease, n int) error
	Unmark(ctx context.Context, l *Lease, n int) error

	// Done ends l: it deletes the first delivered records of l (kelviq
	// took them; 0 for none) and sets the pair's not-before to notBefore
	// (its backoff after a failure, or the pause after a request; zero:
	// due at once). The delete is made even when l has expired (the
	// records were delivered); the lease and the not-before are changed
	// only while l is still the pair's lease, and ErrLeaseLost says it
	// was not.
	Done(ctx context.Context, l *Lease, delivered int, notBefore time.Time) error

	// DeadLetter ends l by moving its first n records to the dead
	// letters, each with dl's Reason, Status, Error and At, and setting
	// the pair's not-before to notBefore. Like Done, the move is made even
	// when l has expired, and ErrLeaseLost says so.
	DeadLetter(ctx context.Context, l *Lease, n int, dl DeadLetter, notBefore time.Time) error

	// DeadLetters returns every dead letter, oldest first.
	DeadLetters(ctx context.Context) ([]DeadLetter, error)
	// RequeueDeadLetters moves the dead letters match accepts (nil: all)
	// back to their pairs' queues, after what those hold, in their
	// original order, and returns how many it moved.
	RequeueDeadLetters(ctx context.Context, match func(DeadLetter) bool) (int, error)
	// PurgeDeadLetters deletes the dead letters match accepts (nil: all)
	// and returns how many it deleted.
	PurgeDeadLetters(ctx context.Context, match func(DeadLetter) bool) (int, error)

	// Pending returns what is queued, one PairQueue per pair with records.
	Pending(ctx context.Context) ([]PairQueue, error)
	// Summary returns the totals of Pending and DeadLetters, at a cost
	// that does not grow with the number of pairs (Stats reads it).
	Summary(ctx context.Context) (Summary, error)

	// Close releases what the outbox holds (a file and its lock). It does
	// not close what the caller gave it (a Redis client).
	Close() error
}

// Lease is a claim on one (customer, feature) pair: while it holds, no
// other Reporter on the outbox sends the pair.
type Lease struct {
	CustomerID, FeatureID string
	// Records are the pair's oldest records, in order.
	Records []Record
	// Expires is when the lease ends by itself, by the caller's clock; the
	// caller must have ended its request (and settled it) before then.
	Expires time.Time
	// Token identifies the lease to the outbox that made it.
	Token string
}

// Record is one stored report.
type Record struct {
	// ID identifies the record within its outbox; opaque.
	ID     string
	Report Report
	// Sending says the record was marked in flight (Outbox.Mark) and not
	// settled: its request may have reached kelviq.
	Sending bool
}

// PairQueue is what one (customer, feature) has queued.
type PairQueue struct {
	CustomerID, FeatureID string
	// Reports is how many are queued; Oldest is the StoredAt of the oldest.
	Reports int
	Oldest  time.Time
	// Leased says a request for the pair may be in flight.
	Leased bool
}

// Summary is the size of an outbox.
type Summary struct {
	// Queued is the number of reports waiting; Oldest the StoredAt of the
	// oldest of them (zero when none).
	Queued int64
	Oldest time.Time
	// DeadLetters is the number of dead letters.
	DeadLetters int64
}

// ErrUnavailable is wrapped by the errors of an Outbox (and so of Report,
// Flush and the dead-letter methods) whose storage could not be reached or
// failed: nothing was changed. The error names the storage.
var ErrUnavailable = errors.New("usage: the outbox's storage is unavailable")

// ErrLeaseLost is returned by Outbox.Done and Outbox.DeadLetter when the
// lease had expired and the pair was claimed again.
var ErrLeaseLost = errors.New("usage: the lease on the pair expired")
