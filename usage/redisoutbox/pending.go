package redisoutbox

import (
	"context"
	"fmt"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// Pending returns what is queued, one PairQueue per pair with records,
// oldest first, read in one script (its cost grows with the pairs).
func (o *Outbox) Pending(ctx context.Context) ([]usage.PairQueue, error) {
	rows, err := pendingScript.Run(ctx, o.rdb, o.keys, o.base).Slice()
	if err != nil {
		return nil, o.unavailable("Pending", err)
	}
	out := make([]usage.PairQueue, 0, len(rows))
	for _, row := range rows {
		t, _ := row.([]any)
		if len(t) != 4 {
			return nil, fmt.Errorf("redisoutbox: Pending: Redis answered a malformed row: %w", usage.ErrUnavailable)
		}
		m, _ := t[0].(string)
		n, _ := t[1].(int64)
		h, _ := t[2].(string)
		leased, _ := t[3].(int64)
		c, f, err := splitMember(m)
		if err != nil {
			return nil, err
		}
		rec, err := decodeRecord(c, f, h, true)
		if err != nil {
			return nil, err
		}
		out = append(out, usage.PairQueue{CustomerID: c, FeatureID: f, Reports: int(n), Oldest: rec.Report.StoredAt, Leased: leased == 1})
	}
	return out, nil
}

// Summary returns the outbox's totals with a few reads, whatever the
// number of pairs.
func (o *Outbox) Summary(ctx context.Context) (usage.Summary, error) {
	res, err := summaryScript.Run(ctx, o.rdb, o.keys, o.base).Slice()
	if err != nil {
		return usage.Summary{}, o.unavailable("Summary", err)
	}
	if len(res) != 4 {
		return usage.Summary{}, fmt.Errorf("redisoutbox: Summary: Redis answered a malformed reply: %w", usage.ErrUnavailable)
	}
	var s usage.Summary
	s.Queued, _ = res[0].(int64)
	s.DeadLetters, _ = res[3].(int64)
	if m, _ := res[1].(string); m != "" {
		if h, _ := res[2].(string); h != "" {
			c, f, err := splitMember(m)
			if err != nil {
				return usage.Summary{}, err
			}
			rec, err := decodeRecord(c, f, h, true)
			if err != nil {
				return usage.Summary{}, err
			}
			s.Oldest = rec.Report.StoredAt
		}
	}
	if s.Queued == 0 {
		s.Oldest = time.Time{}
	}
	return s, nil
}
