package usage

import "time"

// Test-only options: a clock to move, and a faster backoff.

// WithClock makes the Reporter read time from now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithBackoff sets the backoff's first and largest ceilings.
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) { c.baseDelay, c.maxDelay = base, max }
}

// WithMaxPerRequest bounds the reports merged into one request.
func WithMaxPerRequest(n int) Option { return func(c *config) { c.maxPerRequest = n } }

// CommitStats returns the number of the file outbox's commits and their
// total time.
func CommitStats(r *Reporter) (commits int64, total time.Duration) {
	if fo, ok := r.outbox.(*FileOutbox); ok {
		return fo.commitStats()
	}
	return r.appends.Load(), 0
}

// WithRequestTimeout bounds one ReportUsage call.
func WithRequestTimeout(d time.Duration) Option { return func(c *config) { c.requestTimeout = d } }

// PairStates returns how many (customer, feature) pairs the Reporter keeps
// state for.
func PairStates(r *Reporter) int {
	r.local.mu.Lock()
	defer r.local.mu.Unlock()
	return len(r.local.pairs)
}
