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
// # Outboxes
//
// Where reports wait is an Outbox: a bbolt file (WithPath, or
// OpenFileOutbox with WithOutbox), process memory (WithMemory,
// NewMemoryOutbox; lost on a crash, for tests and throwaway processes), or
// another implementation given with WithOutbox, such as usage/redisoutbox,
// which a fleet of Reporters shares. The Reporter closes an outbox it
// opened, never one it was given.
//
// Concurrent Report calls share one Append (group commit): one writer
// goroutine hands every report waiting at that moment to the outbox in one
// call, and the file outbox puts it, with the sender's deletes and marks,
// into one bbolt transaction and one sync. One FileOutbox at a time holds
// a file; a second one fails with ErrLocked instead of corrupting it. A
// Report the outbox cannot store fails with an error wrapping
// ErrUnavailable, and nothing was stored.
//
// # Leases
//
// The sender claims due (customer, feature) pairs from the outbox
// (Outbox.Claim), each under a lease: while it holds, no other Reporter on
// the outbox sends the pair, so a pair has at most one request in flight
// across every process that shares the outbox. The sender ends every lease
// with Done (kelviq took the records; their delete is made before the pair
// can be claimed again) or DeadLetter, and bounds each request to end
// before its lease expires. A lease that is never ended (its process died)
// expires, and the pair is due again for any Reporter on the outbox: that
// is how a fleet takes over a lost instance's reports. The local outboxes
// keep the pairs in a heap of due times, so the sender's work per wake
// follows the pairs that are due, not all the pairs the outbox holds.
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
// permanent: the report moves to the dead-letter bucket, the WithOnDropped
// callback runs once per report, and Stats.Dropped counts it. So does a 401 or 403 (logged as the server key refused), and
// a 301, 302 or 303 answer, which the client returns instead of following
// // with a GET that would not apply the POST. A crash resends at most the
// one request that was in flight for each (customer, feature). Flush and
// Close keep sending while their ctx allows and requests succeed, until
// what was stored before them is delivered; they stop starting requests
// once one got no answer at all.
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
// records in the outbox before sending them (Outbox.Mark; one more shared
// commit in the file), and whoever claims marked records next (the next
// start, or another Reporter of a shared outbox once the lease expired)
// dead-letters them as uncertain instead of resending them; under
// AtLeastOnce they are resent.
//
// # Dead letters
//
// A dead letter keeps its report, a Reason that filters can match (the
// HTTP status, as "401"; ReasonRedirect; ReasonUncertain;
// ReasonUnreadable), the status, the error's text and the time.
// Reporter.DeadLetters lists them, and Stats.DeadLetters counts them. Once
// the cause is fixed (a rotated server key, say),
// Reporter.RequeueDeadLetters puts the matching ones back in the queue,
// after what their pairs hold, and the sender delivers them. A requeued
// SET so comes after every report of its pair that kelviq took since it
// died, and replaces their effect: when a pair's newer reports were
// delivered, purge or leave out its old SETs (match on Behaviour) instead.
// Reporter.PurgeDeadLetters deletes them. Both take a match function; nil
// matches all. cmd/kelviq-usage does the same from the shell.
//
// # The client
//
// kelviq's client never resends a POST once any byte of it may have left,
// so every retry that matters is the Reporter's. A client made with
// kelviq.WithRetries(0) leaves it all to the Reporter; the default (a
// retry of a connection that could not be made) does no harm.
package usage
