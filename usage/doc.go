// Package usage reports usage to kelviq without losing it: a durable outbox
// that survives outages, restarts and kill -9.
//
// Reporter.Report stores a report in a local bbolt file and returns once it
// is synced to disk; a background sender delivers it with kelviq's
// reportUsage operation and deletes it only after kelviq answered 2xx:
//
//	client, _ := kelviq.NewClient(kelviq.FromEnv())
//	r, err := usage.NewReporter(client, usage.WithPath("/var/lib/myapp/usage.db"))
//	…
//	err = r.Report(ctx, customerID, "api-calls", 1, api.ReportUsageRequestBehaviourDELTA)
//	…
//	defer r.Close(shutdownCtx) // sends what it can; the rest waits on disk
//
// # Storing
//
// Concurrent Report calls share their disk syncs (group commit): one
// writer goroutine puts every report waiting at that moment into one bbolt
// transaction. One Reporter at a time holds a file; a second one fails with
// ErrLocked instead of corrupting it. WithMemory keeps the outbox in memory
// instead, for tests and throwaway processes: it loses reports on a crash.
//
// # A damaged file
//
// bbolt trusts its file: a damaged one makes it panic where no recover
// reaches, fault (SIGBUS) on a truncated map, or walk a cycle forever. So
// NewReporter checks the file with plain reads before bbolt maps it, in
// time bounded by its size: the meta pages, the page count against the
// file's length, and every page of the tree, once each, with bbolt's own
// invariants (page ids and types, bounds, key order). A whole file is left
// untouched. A damaged one is salvaged: every record of the pages still
// readable from its tree goes into a fresh file (free pages, which hold
// reports already delivered, are never read), the loss is logged, and the
// damaged file is kept beside it as path.corrupt-<UTC time>, never
// overwritten. A file that is not bbolt at all, or of a newer bbolt format,
// is not the Reporter's to replace: NewReporter leaves it and returns an
// error wrapping ErrCorrupt that names it. (A check rather than
// SetPanicOnFault and recover, which cannot reach the goroutine bbolt walks
// the tree in, or a persisted freelist, which spares the walk at open but
// not the reads of every record that follow it.)
//
// # Sending
//
// The background sender sends a (customer, feature) at most every 100 ms, so
// that under a steady load its reports go in a few requests a second, not
// one request each. It retries with backoff (full jitter) on network errors,
// 408, 429 and 5xx, and honours Retry-After up to 10 minutes (a longer
// one, a wrong header or a date years ahead, counts as 10 minutes, so that
// it cannot stop delivery until the next restart). Any other 4xx is
// permanent: the report moves to the dead-letter bucket (DeadLetters lists
// it), the WithOnDropped callback runs once per report, and Stats.Dropped
// counts it. So does a 401 or 403 (logged as the server key refused), and
// a 301, 302 or 303 answer, which the client returns instead of following
// with a GET that would not apply the POST. A (customer, feature) has at most one request in flight, and its
// delete is committed before it is sent again, so a crash resends at most
// the one request that was in flight for each (customer, feature). Flush
// and Close stop starting requests once one got no answer at all.
//
// Reports waiting for the same (customer, feature) are merged into one
// request: DELTAs add up, a SET replaces everything before it and a DELTA
// after a SET adds to it, so the effect and its order are kept and an
// hour's outage replays as one request per (customer, feature). Stats and
// WithOnDropped count original reports.
//
// # Ambiguous requests
//
// reportUsage takes no idempotency key. A DELTA whose request may have
// reached kelviq without an answer (a timeout or a lost connection after
// the body was sent, or a 5xx) is resent under AtLeastOnce, the default
// and the behaviour of kelviq's own SDKs, and may then count more than
// once (once per ambiguous attempt); under AtMostOnce it moves to the
// dead-letter bucket, counted in Stats.Uncertain, and may then be lost.
// A SET is always resent.
//
// A crash has the same ambiguity: the request in flight at a kill -9 may
// have reached kelviq. Under AtMostOnce the sender marks a DELTA's
// records in the file before sending them (one more shared commit), and
// the next start dead-letters marked records as uncertain instead of
// resending them; under AtLeastOnce the next start resends them.
//
// # The client
//
// kelviq's client never resends a POST once any byte of it may have left,
// so every retry that matters is the Reporter's. A client made with
// kelviq.WithRetries(0) leaves it all to the Reporter; the default (a
// retry of a connection that could not be made) does no harm.
package usage
