package redisoutbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/usage"
)

// Append stores reports in one script: all of them or, on any error, none.
// It returns once Redis has answered: the reports are then as durable as
// the server's persistence makes them (see the package doc). An error
// wrapping usage.ErrUnavailable after the script was sent (a timeout, a
// lost connection) cannot tell whether Redis ran it. Each batch has an
// ID, so that go-redis's own resend of the script after a broken
// connection does not store it twice.
func (o *Outbox) Append(ctx context.Context, reports []usage.Report) error {
	if len(reports) == 0 {
		return nil
	}
	var batch [12]byte
	_, _ = rand.Read(batch[:])
	args := make([]any, 0, 3+3*len(reports))
	args = append(args, o.base, len(reports), hex.EncodeToString(batch[:]))
	for i, r := range reports {
		if r.CustomerID == "" || r.FeatureID == "" {
			return fmt.Errorf("redisoutbox: Append: report %d has an empty customer or feature ID: %w", i, usage.ErrInvalidReport)
		}
		if r.Behaviour != api.ReportUsageRequestBehaviourDELTA && r.Behaviour != api.ReportUsageRequestBehaviourSET {
			return fmt.Errorf("redisoutbox: Append: report %d has behaviour %q: %w", i, string(r.Behaviour), usage.ErrInvalidReport)
		}
		args = append(args, pairMember(r.CustomerID, r.FeatureID), strconv.FormatInt(r.StoredAt.UnixNano(), 10), recordBody(r))
	}
	if err := appendScript.Run(ctx, o.rdb, o.keys, args...).Err(); err != nil {
		return o.unavailable("Append", err)
	}
	return nil
}
