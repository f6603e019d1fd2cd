package usage

import (
	"log/slog"
	"strconv"
	"time"
)

// Option configures a Reporter.
type Option func(*config)

// Delivery says what the sender does with a DELTA whose request may or may
// not have reached kelviq: a timeout or a lost connection after the body
// was sent, or a 5xx answer. kelviq's reportUsage takes no idempotency key,
// so a resend may count the DELTA again and a drop may lose it.
type Delivery int

const (
	// AtLeastOnce resends an ambiguous DELTA: a report is never lost, and
	// may in rare cases be counted more than once (once per ambiguous
	// attempt: a kelviq that applies a DELTA and then answers 5xx every
	// time counts it at each retry). It is the default, and the
	// behaviour of kelviq's own SDKs.
	AtLeastOnce Delivery = iota
	// AtMostOnce moves an ambiguous DELTA to the dead-letter bucket,
	// counted in Stats.Uncertain and passed to the WithOnDropped callback
	// with an error matching ErrUncertain: a report is never counted
	// twice, and may in rare cases be lost. The DELTA in flight at a
	// crash counts as ambiguous too: the next start dead-letters it. A SET
	// is always resent under both: sending it twice has the effect of
	// sending it once.
	AtMostOnce
)

// String returns "AtLeastOnce" or "AtMostOnce".
func (d Delivery) String() string {
	switch d {
	case AtLeastOnce:
		return "AtLeastOnce"
	case AtMostOnce:
		return "AtMostOnce"
	}
	return "Delivery(" + strconv.Itoa(int(d)) + ")"
}

// config is what the options build.
type config struct {
	path      string
	memory    bool
	outbox    Outbox
	outboxSet bool
	onDropped func(Report, error)
	delivery  Delivery
	logger    *slog.Logger

	// Not options: the sender's tuning, changed by tests in the package.
	lockTimeout    time.Duration // wait for another process's lock on the file
	requestTimeout time.Duration // bound of one ReportUsage call
	baseDelay      time.Duration // first backoff ceiling, doubled per failure
	maxDelay       time.Duration // backoff ceiling
	maxRetryAfter  time.Duration // longest Retry-After honoured
	concurrency    int           // requests in flight at once (one per pair)
	maxPerRequest  int           // original reports merged into one request at most
	pairInterval   time.Duration // background sends of one pair are this far apart at least
	now            func() time.Time
	senderOff      bool                // the background sender claims nothing (tests)
	wrapOutbox     func(Outbox) Outbox // tests: an outbox that fails on purpose
}

func defaultConfig() config {
	return config{
		delivery:       AtLeastOnce,
		lockTimeout:    100 * time.Millisecond,
		requestTimeout: 30 * time.Second,
		baseDelay:      500 * time.Millisecond,
		maxDelay:       time.Minute,
		maxRetryAfter:  10 * time.Minute,
		concurrency:    4,
		maxPerRequest:  100_000,
		pairInterval:   100 * time.Millisecond,
		now:            time.Now,
	}
}

// WithPath stores the outbox in the bbolt file at path, created when it
// does not exist (mode 0600). One Reporter at a time may hold a file: a
// second one, in this process or another, fails in NewReporter with an
// error matching ErrLocked. Either WithPath, WithOutbox or WithMemory is required.
func WithPath(path string) Option {
	return func(c *config) { c.path = path }
}

// WithOutbox keeps the reports in o: a FileOutbox or MemoryOutbox the
// caller opened, or another implementation such as usage/redisoutbox's,
// which a fleet of Reporters shares. It excludes WithPath and WithMemory.
// The Reporter does not close o: the caller does, after Reporter.Close.
func WithOutbox(o Outbox) Option {
	return func(c *config) { c.outbox, c.outboxSet = o, true }
}

// WithMemory keeps the outbox in process memory instead of a file. Reports
// waiting to be sent are LOST when the process crashes or exits before
// they are delivered: use it in tests and throwaway processes only.
func WithMemory() Option {
	return func(c *config) { c.memory = true }
}

// WithOnDropped sets a function called once for every original report the
// sender gives up on, after it has been moved to the dead-letter bucket: a
// 4xx answer other than 408 and 429, or a redirect the client does not
// follow because it would turn the POST into a GET (err is the
// *kelviq.Error), or, under
// AtMostOnce, an ambiguous DELTA (err matches ErrUncertain). A request that
// merged several reports calls it once for each of them. It runs on the
// sender's goroutine (or, for the DELTAs in flight at a crash under
// AtMostOnce, in the next NewReporter): return quickly, and do not call
// the Reporter's Flush or Close from it.
//
// It is called at most once per report: a crash after the move and before
// the call skips it, and a later start does not call it for what it finds
// in the dead-letter bucket. Reporter.DeadLetters lists every dead letter,
// from this run and earlier ones.
func WithOnDropped(f func(Report, error)) Option {
	return func(c *config) { c.onDropped = f }
}

// WithDelivery chooses what happens to a DELTA that may or may not have
// reached kelviq: AtLeastOnce (the default) or AtMostOnce.
func WithDelivery(d Delivery) Option {
	return func(c *config) { c.delivery = d }
}

// WithLogger logs the sender's failures and retries (Warn), dead-lettered
// reports (Error), storage failures (Error) and the reports Close leaves
// unsent (Info; Warn with WithMemory, which loses them) to l. Logs hold customer and
// feature IDs, never a key. nil (the default) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
