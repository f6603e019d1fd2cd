package entitlements

import (
	"context"
	"time"
)

// Store is a cache level shared by the Checkers of every instance of an
// app, given with WithStore. Package redisstore implements it on Redis.
//
// Keys come from the Checker: the kelviq environment and the customer ID
// ("production:cust_123"); a Store adds its own prefix. Implementations must
// be safe for concurrent use. An error from any method never fails a check:
// the Checker goes on with memory and kelviq.
type Store interface {
	// Load returns the record saved under key; ok is false when there is
	// none (never saved, expired or deleted). A value it cannot read as a
	// record is best reported as none too (ok false, nil error): the
	// Checker then asks kelviq and Save replaces the value. An error
	// counts as a failure of the store, which is then left alone for a
	// second, saves included.
	Load(ctx context.Context, key string) (rec Record, ok bool, err error)
	// Save saves rec under key, replacing any record there, for ttl.
	Save(ctx context.Context, key string, rec Record, ttl time.Duration) error
	// Delete removes the record under key, if any.
	Delete(ctx context.Context, key string) error
}

// Record is what a Store keeps for one customer: kelviq's answer as it came
// and when it was fetched. Each Checker aggregates it itself, so instances
// running different versions of this package agree on the raw data.
type Record struct {
	// FetchedAt is when the answer was fetched from kelviq; freshness and
	// the max-stale bound are measured from it.
	FetchedAt time.Time
	// Body is the JSON body of kelviq's 200 answer to
	// getCustomerEntitlements (api.CheckEntitlementsResponse).
	Body []byte
}

// storeOpTimeout bounds a store operation that has no caller's context
// (Invalidate).
const storeOpTimeout = 5 * time.Second
