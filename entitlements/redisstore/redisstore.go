// Package redisstore keeps the entitlements cache of every instance of an
// app in one Redis: an entitlements.Store on github.com/redis/go-redis/v9.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	checker, err := entitlements.New(client,
//		entitlements.WithStore(redisstore.New(rdb, "myapp:entitlements:")))
//
// A customer's record is one string key, prefix + environment + ":" +
// customer ID, holding kelviq's answer and when it was fetched, with a TTL
// of the Checker's longest max-stale bound. Any Redis that go-redis's
// UniversalClient reaches will do: a single server, Sentinel or Cluster.
//
// When Redis fails, checks go on with memory and kelviq (the Checker logs it
// once per outage and leaves Redis alone for a second after each failure).
// A check that misses memory waits for Redis at most the Checker's store
// budget (entitlements.WithStoreTimeout, 50 ms by default), then goes on to
// kelviq, even with go-redis's defaults, which do not honour a context's
// deadline for socket reads (a 3 s ReadTimeout, 3 retries, 5 dial attempts):
// a stopped or unreachable Redis costs one check that budget. The command
// itself then runs on in the background until go-redis gives up; bounding
// go-redis too frees its connections sooner:
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:         "localhost:6379",
//		DialTimeout:  200 * time.Millisecond,
//		ReadTimeout:  100 * time.Millisecond,
//		WriteTimeout: 100 * time.Millisecond,
//		MaxRetries:   -1, // no retries: the Checker falls back to kelviq
//		DialerRetries:      1,
//		DialerRetryTimeout: 10 * time.Millisecond,
//	})
package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Store is an entitlements.Store on Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ entitlements.Store = (*Store)(nil)

// New returns a Store that keeps its records in rdb under keys starting with
// prefix (e.g. "myapp:entitlements:"), so that several apps or Checkers can
// share one Redis without meeting.
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix}
}

// errNoClient is returned by every method of a Store made with a nil client,
// and of a nil *Store.
var errNoClient = errors.New("redisstore: the Store has no Redis client (a nil *Store, or redisstore.New was given nil)")

// magic opens every value: a format version, so that a record of another
// format is never misread.
const magic = "kq-ent/1\n"

// maxRecordBytes caps the value Load reads: kelviq's answer at the kelviq
// client's default cap on a response, plus the record's header. A value
// larger than that is no record of this package (a Checker never saves one
// unless kelviq.WithMaxResponseBytes was raised past the default), and
// reading it whole would let one key cost every check of its customer
// hundreds of megabytes.
const maxRecordBytes = kelviq.DefaultMaxResponseBytes + len(magic) + 21

// Load returns the record of key, or ok false when Redis has none.
//
// A value that is not a record of this package (garbage, another format
// version, a key of another Redis type, a value over the size cap) is
// reported as no record, not as an error: the Checker then fetches the
// customer and its Save replaces the value. As an error it would count as
// an outage of Redis, leave Redis alone for a while after every fetch of
// that customer, and skip the very save that repairs the key.
func (s *Store) Load(ctx context.Context, key string) (entitlements.Record, bool, error) {
	if s == nil || s.rdb == nil {
		return entitlements.Record{}, false, errNoClient
	}
	// GETRANGE reads at most maxRecordBytes+1 bytes whatever the value's
	// size; a missing key reads as empty, which no record is.
	b, err := s.rdb.GetRange(ctx, s.prefix+key, 0, int64(maxRecordBytes)).Bytes()
	if err != nil {
		if isWrongType(err) {
			return entitlements.Record{}, false, nil
		}
		return entitlements.Record{}, false, fmt.Errorf("redisstore: load: %w", err)
	}
	if len(b) == 0 || len(b) > maxRecordBytes {
		return entitlements.Record{}, false, nil
	}
	rec, err := decode(b)
	if err != nil {
		return entitlements.Record{}, false, nil
	}
	return rec, true, nil
}

// noScripts reports Redis's refusal of EVAL/EVALSHA: not permitted by the
// user's ACL, or not a command of the server or proxy.
func noScripts(err error) bool {
	var rerr redis.Error
	if err == nil || !errors.As(err, &rerr) {
		return false
	}
	msg := rerr.Error()
	return strings.HasPrefix(msg, "NOPERM") || strings.Contains(strings.ToLower(msg), "unknown command")
}

// isWrongType reports Redis's answer to a read of a key that holds another
// type than a string (a hash, a list …).
func isWrongType(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "WRONGTYPE")
}

// saveScript sets KEYS[1] to ARGV[1] for ARGV[2] ms unless it holds a
// record of this package fetched after ARGV[3] (Unix ns, as in the record's
// header) and not in the future by Redis's clock (more than ARGV[5] ns
// ahead): a record from an instance whose clock runs ahead, which the
// Checkers of the others do not use, must not keep their answers out.
// GETRANGE reads only the header, whatever the value's size; a key of
// another type or another value is replaced, as SET would.
var saveScript = redis.NewScript(`
if redis.replicate_commands then pcall(redis.replicate_commands) end
if redis.call('TYPE', KEYS[1]).ok == 'string' then
	local head = redis.call('GETRANGE', KEYS[1], 0, 63)
	local magic = ARGV[4]
	if string.sub(head, 1, #magic) == magic then
		local at = string.match(string.sub(head, #magic + 1), '^(%d+)\n')
		if at and (#at > #ARGV[3] or (#at == #ARGV[3] and at > ARGV[3])) then
			local t = redis.call('TIME')
			local now = tonumber(t[1]) * 1e9 + tonumber(t[2]) * 1e3
			if tonumber(at) <= now + tonumber(ARGV[5]) then
				return 0
			end
		end
	end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// maxFutureRecord is how far ahead of Redis's clock a record's fetch time
// may be and still keep an older save out (saveScript): the Checker's own
// tolerance of a clock ahead of its own.
const maxFutureRecord = time.Second

// Save stores rec under key for ttl (at least a millisecond, Redis's unit),
// unless the record there was fetched after rec: a save that reaches Redis
// late (a Checker stops waiting for the store after its budget, and the
// command runs on) must not replace a newer answer with an older one, which
// would serve a revoked customer its old grant when kelviq then fails.
// (A record fetched more than a second ahead of Redis's clock, by an
// instance whose clock runs ahead, is replaced all the same.)
func (s *Store) Save(ctx context.Context, key string, rec entitlements.Record, ttl time.Duration) error {
	if s == nil || s.rdb == nil {
		return errNoClient
	}
	ms := max(ttl, time.Millisecond).Milliseconds()
	at := strconv.FormatInt(rec.FetchedAt.UnixNano(), 10)
	value := encode(rec)
	err := saveScript.Run(ctx, s.rdb, []string{s.prefix + key}, value, ms, at, magic, maxFutureRecord.Nanoseconds()).Err()
	if noScripts(err) {
		// A Redis that refuses scripts (an ACL without EVAL, a proxy
		// without them) still takes the record, last writer wins.
		err = s.rdb.Set(ctx, s.prefix+key, value, time.Duration(ms)*time.Millisecond).Err()
	}
	if err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	return nil
}

// Delete removes key's record.
func (s *Store) Delete(ctx context.Context, key string) error {
	if s == nil || s.rdb == nil {
		return errNoClient
	}
	if err := s.rdb.Del(ctx, s.prefix+key).Err(); err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	return nil
}

// encode writes a record as magic, the fetch time in Unix nanoseconds, a
// newline and the body: readable with redis-cli, and decoded without
// parsing the body twice.
func encode(rec entitlements.Record) []byte {
	b := make([]byte, 0, len(magic)+20+1+len(rec.Body))
	b = append(b, magic...)
	b = strconv.AppendInt(b, rec.FetchedAt.UnixNano(), 10)
	b = append(b, '\n')
	return append(b, rec.Body...)
}

func decode(b []byte) (entitlements.Record, error) {
	rest, ok := bytes.CutPrefix(b, []byte(magic))
	if !ok {
		return entitlements.Record{}, errors.New("not a record of this package (unknown format)")
	}
	at, body, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return entitlements.Record{}, errors.New("truncated record")
	}
	ns, err := strconv.ParseInt(string(at), 10, 64)
	if err != nil {
		return entitlements.Record{}, fmt.Errorf("bad fetch time: %w", err)
	}
	return entitlements.Record{FetchedAt: time.Unix(0, ns), Body: body}, nil
}
