package redisoutbox

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// Claim leases up to maxPairs due pairs in one script, at a cost that grows
// with the due pairs it visits, not with all pairs. next is the earliest
// not-before or lease end left, and never later than the poll interval
// (WithPollInterval): other processes store reports and die.
func (o *Outbox) Claim(ctx context.Context, now time.Time, maxPairs, perPair int) ([]*usage.Lease, time.Time, error) {
	if maxPairs <= 0 || perPair <= 0 {
		return nil, time.Time{}, fmt.Errorf("redisoutbox: Claim(maxPairs %d, perPair %d): both must be positive", maxPairs, perPair)
	}
	ttl := o.cfg.leaseTTL
	token := o.instance + "." + strconv.FormatUint(o.claims.Add(1), 36)
	res, err := claimScript.Run(ctx, o.rdb, o.keys, o.base, now.UnixMilli(), maxPairs, perPair, ttl.Milliseconds(), token).Slice()
	if err != nil {
		return nil, time.Time{}, o.unavailable("Claim", err)
	}
	bad := func(what string) ([]*usage.Lease, time.Time, error) {
		return nil, time.Time{}, fmt.Errorf("redisoutbox: Claim: Redis answered %s: %w", what, usage.ErrUnavailable)
	}
	if len(res) != 2 {
		return bad("a malformed reply")
	}
	got, _ := res[0].([]any)
	leases := make([]*usage.Lease, 0, len(got))
	for _, g := range got {
		t, _ := g.([]any)
		if len(t) != 3 {
			return bad("a malformed lease")
		}
		m, _ := t[0].(string)
		tok, _ := t[1].(string)
		recs, _ := t[2].([]any)
		if l := lease(m, tok, recs, now.Add(ttl)); l != nil {
			leases = append(leases, l)
		}
	}
	next := now.Add(o.cfg.poll)
	if s, _ := res[1].(string); s != "-1" {
		if ms, err := strconv.ParseFloat(s, 64); err == nil {
			if due := time.UnixMilli(int64(ms)); due.Before(next) {
				next = due
			}
		}
	}
	if next.Before(now) {
		next = now
	}
	return leases, next, nil
}

// lease decodes one leased pair of claimScript's reply, or returns nil when
// its name or a record is not what this package writes (another program
// wrote into the prefix). Such a pair is skipped, not failing the Claim:
// the script leased every pair of the batch, and an error would leave them
// all leased and unsent for a lease period. The skipped pair stays leased,
// so it is tried again once a lease period, not in a hot loop.
func lease(m, tok string, recs []any, expires time.Time) *usage.Lease {
	c, f, err := splitMember(m)
	if err != nil {
		return nil
	}
	l := &usage.Lease{CustomerID: c, FeatureID: f, Token: tok, Expires: expires, Records: make([]usage.Record, 0, len(recs))}
	for _, e := range recs {
		s, _ := e.(string)
		rec, err := decodeRecord(c, f, s, true)
		if err != nil {
			return nil
		}
		l.Records = append(l.Records, rec)
	}
	return l
}
