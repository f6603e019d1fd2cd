// Package redisoutbox keeps the usage outbox of a whole fleet in one Redis:
// a usage.Outbox on github.com/redis/go-redis/v9, shared by every Reporter
// on the same prefix, in any number of processes.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	outbox, err := redisoutbox.New(rdb, "myapp:usage:")
//	…
//	r, err := usage.NewReporter(client, usage.WithOutbox(outbox))
//
// Any Reporter on the prefix delivers any report stored there, and the
// reports of one (customer, feature) coalesce across instances. A pair is
// sent by one Reporter at a time: claiming it takes a lease in Redis (a key
// with a PX expiry, WithLeaseTTL, 30 s by default). A Reporter that dies
// (SIGKILL, its pod gone) loses nothing it acknowledged: when its leases
// expire another Reporter sends what it left, resending at most the one
// request per pair that was in flight. Reporters look for work they were
// not woken for (other processes' reports, expired leases) every
// WithPollInterval (1 s by default). The pause after a request and the
// backoff after a failure are kept in Redis, so they hold for the whole
// fleet.
//
// # What an acknowledged report survives
//
// Reporter.Report returns once Redis has answered the script that stored
// the report. What that survives is the server's persistence:
//
//   - appendonly yes, appendfsync always: Redis writes and fsyncs its
//     append-only file before it answers; an acknowledged report survives
//     a crash of Redis and of its host.
//   - appendonly yes, appendfsync everysec (Redis's default when AOF is
//     on): a crash of Redis or of its host loses up to about the last
//     second of acknowledged reports.
//   - no AOF (appendonly no, RDB snapshots or nothing): a restart of Redis
//     loses everything it held, or everything since its last snapshot.
//
// A replica promoted by Sentinel or Cluster may also lack the last writes
// the old primary acknowledged (replication is asynchronous).
//
// And maxmemory-policy must be noeviction: any other policy lets a full
// Redis evict queued reports; with noeviction it refuses the write, and
// Report fails with usage.ErrUnavailable instead. Check a server with
//
//	redis-cli CONFIG GET appendonly
//	redis-cli CONFIG GET appendfsync
//	redis-cli CONFIG GET maxmemory-policy
//
// or Outbox.Persistence, or make New refuse a server that does not keep
// what it acknowledged with WithRequiredPersistence("always").
//
// # Failures
//
// Every operation is one Lua script (EVALSHA, EVAL when the server lacks
// it), so it happens entirely or not at all: a Report that fails stored
// nothing, a batch is never half stored. A Redis that is down, refuses or
// times out makes the operation fail with an error wrapping
// usage.ErrUnavailable that names Redis; the Reporter's Report returns it,
// and its sender tries again until Redis is back. A timeout after the
// script was sent cannot tell whether Redis ran it: the Report fails, and
// its report may have been stored (and be sent). A batch carries an ID
// that Redis remembers for ten minutes, so go-redis's own resend of a
// script after a broken connection does not store it twice. Bound
// go-redis's timeouts (ReadTimeout, MaxRetries) so that an outage fails
// fast.
//
// Pending reads every pair in one script, which blocks the server for as
// long: it is for inspection (cmd/kelviq-usage), not for a hot path.
// DeadLetters, RequeueDeadLetters and PurgeDeadLetters work 1,000 dead
// letters per script, so that requeueing a million after a rotated key
// does not stop the fleet's Reports meanwhile. Summary, which Stats reads,
// costs a few reads whatever the size.
//
// The scripts reach a pair's keys by name rather than through KEYS, which
// Redis Cluster accepts because every key of a prefix is in the script's
// slot. The tests run a single redis-server.
//
// # Keys
//
// Every key starts with "{" + prefix + "}:1" (a hash tag, then the format's
// version), so one prefix lives in one Cluster slot and the scripts' keys
// are in one place. Per pair: a
// list of records (the in-flight mark of AtMostOnce is kept in each record,
// so it survives a kill) and a lease key; per prefix: a ZSET of pairs by
// when they are due, which Claim reads with ZRANGEBYSCORE … LIMIT, so its
// cost grows with the due pairs, not with all; a ZSET of the pairs that
// hold records by their oldest; the dead letters (a hash and a ZSET for
// their order); and two counters. Lease expiries and not-before times are
// kept in the Reporters' clocks: keep the fleet's clocks synchronized (NTP);
// a skew only moves when a pair is retried, never lets two Reporters send
// one pair, which the lease key's own expiry in Redis guards.
package redisoutbox
