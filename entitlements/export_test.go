package entitlements

import "time"

// WithClock makes the Checker read the time from now: tests move time
// forward instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// StaleRetryInterval is exported to the tests.
const StaleRetryInterval = staleRetryInterval

// InternedBytes is what the Checker's interned access sets hold, and what
// they freed so far.
func InternedBytes(c *Checker) (held int, freed uint64) {
	_, held, freed = c.accessSets.held()
	return held, freed
}
