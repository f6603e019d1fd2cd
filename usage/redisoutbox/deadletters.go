package redisoutbox

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/usage"
)

// deadPage is how many dead letters one script reads, requeues or purges:
// a script blocks Redis while it runs, and a million in one would stop
// every Reporter on the server for many seconds.
const deadPage = 1000

// DeadLetters returns every dead letter, oldest first, read a page at a
// time.
func (o *Outbox) DeadLetters(ctx context.Context) ([]usage.DeadLetter, error) {
	var out []usage.DeadLetter
	after := "0" // orders come from INCR: 1 and up
	for {
		res, err := deadScript.Run(ctx, o.rdb, o.keys, o.base, after, deadPage).Slice()
		if err != nil {
			return nil, o.unavailable("DeadLetters", err)
		}
		if len(res) != 3 {
			return nil, fmt.Errorf("redisoutbox: DeadLetters: Redis answered a malformed reply: %w", usage.ErrUnavailable)
		}
		last, _ := res[0].(string)
		read, _ := res[1].(int64)
		vs, _ := res[2].([]any)
		for _, v := range vs {
			s, _ := v.(string)
			dl, err := decodeDead(s)
			if err != nil {
				return nil, err
			}
			out = append(out, dl)
		}
		if read < deadPage {
			return out, nil
		}
		if last == "" || last == after {
			return nil, fmt.Errorf("redisoutbox: DeadLetters: Redis answered a malformed page: %w", usage.ErrUnavailable)
		}
		after = last
	}
}

// RequeueDeadLetters moves the dead letters match accepts (nil: all) back
// to the end of their pairs' queues, in the order they died, each as a new
// record; it returns how many it moved. It reads the dead letters, then
// moves the chosen ones, deadPage per script (each page all or none): one
// another process moved or purged in between is skipped, not moved twice.
// After an error, the count is of the pages moved before it.
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
	var ids []any
	for _, dl := range dls {
		if match == nil || match(dl) {
			ids = append(ids, dl.ID)
		}
	}
	moved := 0
	for len(ids) > 0 {
		page := ids[:min(deadPage, len(ids))]
		ids = ids[len(page):]
		n, err := s.Run(ctx, o.rdb, o.keys, append([]any{o.base}, page...)...).Int()
		if err != nil {
			return moved, o.unavailable(op, err)
		}
		moved += n
	}
	return moved, nil
}
