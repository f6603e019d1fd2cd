package entitlements

import "sync/atomic"

// Stats are a Checker's counts since it was made.
//
// Each check (a call of HasAccess, Get or All) ends in exactly one
// outcome: Hits, StoreHits, Fetched, StaleAnswers or Errors, so that they
// add up to the checks made and can be exported as one counter by outcome
// (fresh hit, store hit, fetched, stale, error). Denied counts, across all
// of them, the checks that answered no access. Misses, APICalls and
// StoreErrors count the work behind the outcomes.
type Stats struct {
	// Hits are checks answered fresh from memory (outcome "fresh hit").
	Hits uint64
	// Misses are checks that memory could not answer fresh: they waited for
	// a fetch (or shared one in progress), or were answered stale, or
	// failed: StoreHits + Fetched + StaleAnswers + the Errors of checks
	// that missed memory.
	Misses uint64
	// StoreHits are checks answered fresh by the shared store's record,
	// read by a fetch made or shared for them (outcome "store hit").
	StoreHits uint64
	// APICalls are calls made to kelviq's getCustomerEntitlements (one per
	// fetch that reached kelviq, however many checks shared it).
	APICalls uint64
	// StaleAnswers are checks answered with a last known value because
	// kelviq could not be reached (outcome "stale"): All counts one.
	StaleAnswers uint64
	// Fetched are checks answered fresh by a call to kelviq made or shared
	// for them (outcome "fetched"): not fresh in memory, not the store's,
	// not stale.
	Fetched uint64
	// Denied are checks that answered no access, with an error or without
	// (the customer's plan lacks the feature, Get's ErrFeatureNotFound, a
	// METER used up, kelviq unavailable). An All is denied when it fails.
	// Denied overlaps the outcomes above: it is not one of them.
	Denied uint64
	// Errors are checks that returned an error (outcome "error"): kelviq
	// unavailable past the bound, its refusal (a 4xx), a feature whose
	// entries in kelviq's answer cannot be read, a bad argument, a
	// cancellation. Get's ErrFeatureNotFound is an answer (the customer
	// lacks the feature) and is not counted.
	Errors uint64
	// StoreErrors are failed operations of the shared store, timeouts of
	// WithStoreTimeout included (none of them failed a check).
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
