package entitlements

import "sync/atomic"

// Stats are a Checker's counts since it was made.
type Stats struct {
	// Hits are checks answered from memory, fresh.
	Hits uint64
	// Misses are checks that memory could not answer fresh: they waited for
	// a fetch (or shared one in progress), or were answered stale.
	Misses uint64
	// StoreHits are fetches answered by the shared store without a call.
	StoreHits uint64
	// APICalls are calls made to kelviq's getCustomerEntitlements.
	APICalls uint64
	// StaleAnswers are checks answered with a last known value because
	// kelviq could not be reached.
	StaleAnswers uint64
	// Fetched are checks answered by a fetch from kelviq made (or shared)
	// for them: not fresh in memory, not answered stale.
	Fetched uint64
	// Denied are checks that answered no access, with an error or without
	// (the customer's plan lacks the feature).
	Denied uint64
	// Errors are checks that returned an error: kelviq unavailable past
	// the bound, its refusal (a 4xx), a bad argument, a cancellation. Get's
	// ErrFeatureNotFound is an answer (the customer lacks the feature) and
	// is not counted.
	Errors uint64
	// StoreErrors are failed operations of the shared store (none of them
	// failed a check).
	StoreErrors uint64
}

type counters struct {
	hits, misses, storeHits, fetched, apiCalls, stale, denied, errors atomic.Uint64
}

// Stats returns the Checker's counts so far.
func (c *Checker) Stats() Stats {
	return Stats{
		Hits:         c.stats.hits.Load(),
		Misses:       c.stats.misses.Load(),
		StoreHits:    c.stats.storeHits.Load(),
		Fetched:      c.stats.fetched.Load(),
		Denied:       c.stats.denied.Load(),
		APICalls:     c.stats.apiCalls.Load(),
		StaleAnswers: c.stats.stale.Load(),
		Errors:       c.stats.errors.Load(),
		StoreErrors:  c.store.errors.Load(),
	}
}
