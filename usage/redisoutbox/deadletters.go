package redisoutbox

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/usage"
)

// DeadLetters returns every dead letter, oldest first.
func (o *Outbox) DeadLetters(ctx context.Context) ([]usage.DeadLetter, error) {
	vs, err := deadScript.Run(ctx, o.rdb, o.keys, o.base).StringSlice()
	if err != nil {
		return nil, o.unavailable("DeadLetters", err)
	}
	out := make([]usage.DeadLetter, 0, len(vs))
	for _, v := range vs {
		dl, err := decodeDead(v)
		if err != nil {
			return nil, err
		}
		out = append(out, dl)
	}
	return out, nil
}

// RequeueDeadLetters moves the dead letters match accepts (nil: all) back
// to the end of their pairs' queues, in the order they died, each as a new
// record; it returns how many it moved. It reads the dead letters, then
// moves the chosen ones in one script: one another process moved or
// purged in between is skipped, not moved twice.
func (o *Outbox) RequeueDeadLetters(ctx context.Context, match func(usage.DeadLetter) bool) (int, error) {
	return o.moveDead(ctx, "RequeueDeadLetters", requeueScript, match)
}

// PurgeDeadLetters deletes the dead letters match accepts (nil: all) and
// returns how many it deleted.
func (o *Outbox) PurgeDeadLetters(ctx context.Context, match func(usage.DeadLetter) bool) (int, error) {
	return o.moveDead(ctx, "PurgeDeadLetters", purgeScript, match)
}

func (o *Outbox) moveDead(ctx context.Context, op string, s *redis.Script, match func(usage.DeadLetter) bool) (int, error) {
	dls, err := o.DeadLetters(ctx)
	if err != nil {
		return 0, err
	}
	args := []any{o.base}
	for _, dl := range dls {
		if match == nil || match(dl) {
			args = append(args, dl.ID)
		}
	}
	if len(args) == 1 {
		return 0, nil
	}
	n, err := s.Run(ctx, o.rdb, o.keys, args...).Int()
	if err != nil {
		return 0, o.unavailable(op, err)
	}
	return n, nil
}
