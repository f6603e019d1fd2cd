package redisoutbox

import (
	"context"
	"fmt"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// checkLease checks a lease given back, and returns the pair's member and
// the IDs of its first n records.
func checkLease(op string, l *usage.Lease, n int) (string, []any, error) {
	if l == nil || l.Token == "" {
		return "", nil, fmt.Errorf("redisoutbox: %s: not a lease of a redisoutbox.Outbox", op)
	}
	if n < 0 || n > len(l.Records) {
		return "", nil, fmt.Errorf("redisoutbox: %s: %d records of a lease of %d", op, n, len(l.Records))
	}
	ids := make([]any, n)
	for i := range n {
		ids[i] = l.Records[i].ID
	}
	return pairMember(l.CustomerID, l.FeatureID), ids, nil
}

// Mark marks the first n records of l in flight (Record.Sending), in the
// records themselves, so that a claimer after a crash sees the marks. It
// fails with usage.ErrLeaseLost when l is no longer the pair's lease, or
// its records are no longer the oldest of the pair (a previous holder of
// an expired lease settled them): then nothing is marked, and l must not
// be sent.
func (o *Outbox) Mark(ctx context.Context, l *usage.Lease, n int) error {
	return o.mark(ctx, "Mark", l, n, "1")
}

// Unmark removes the marks Mark set on the first n records of l, under the
// same conditions.
func (o *Outbox) Unmark(ctx context.Context, l *usage.Lease, n int) error {
	return o.mark(ctx, "Unmark", l, n, "0")
}

func (o *Outbox) mark(ctx context.Context, op string, l *usage.Lease, n int, flag string) error {
	m, ids, err := checkLease(op, l, n)
	if err != nil || n == 0 {
		return err
	}
	args := append([]any{o.base, m, l.Token, flag}, ids...)
	k, err := markScript.Run(ctx, o.rdb, o.keys, args...).Int()
	switch {
	case err != nil:
		return o.unavailable(op, err)
	case k == -1:
		return fmt.Errorf("redisoutbox: %s: %w", op, usage.ErrLeaseLost)
	case k == -2:
		return fmt.Errorf("redisoutbox: %s: the lease's records were settled by an earlier holder: %w", op, usage.ErrLeaseLost)
	}
	return nil
}

// Done deletes the first delivered records of l, even when l has expired,
// and, while l is still the pair's lease, ends it and sets the pair's
// not-before, which holds for records stored later, by any process.
func (o *Outbox) Done(ctx context.Context, l *usage.Lease, delivered int, notBefore time.Time) error {
	return o.settle(ctx, "Done", l, delivered, "", notBefore)
}

// DeadLetter moves the first n records of l to the dead letters with dl's
// Reason, Status, Error and At, like Done otherwise.
func (o *Outbox) DeadLetter(ctx context.Context, l *usage.Lease, n int, dl usage.DeadLetter, notBefore time.Time) error {
	meta, err := encodeMeta(dl)
	if err != nil {
		return fmt.Errorf("redisoutbox: DeadLetter: %w", err)
	}
	return o.settle(ctx, "DeadLetter", l, n, meta, notBefore)
}

func (o *Outbox) settle(ctx context.Context, op string, l *usage.Lease, n int, meta string, notBefore time.Time) error {
	m, ids, err := checkLease(op, l, n)
	if err != nil {
		return err
	}
	nb := int64(0)
	if !notBefore.IsZero() {
		nb = notBefore.UnixMilli()
	}
	args := append([]any{o.base, m, l.Token, nb, meta}, ids...)
	res, err := settleScript.Run(ctx, o.rdb, o.keys, args...).Int64Slice()
	if err != nil {
		return o.unavailable(op, err)
	}
	if len(res) != 2 {
		return fmt.Errorf("redisoutbox: %s: Redis answered a malformed reply: %w", op, usage.ErrUnavailable)
	}
	if res[1] == 0 {
		return fmt.Errorf("redisoutbox: %s: %w", op, usage.ErrLeaseLost)
	}
	return nil
}
