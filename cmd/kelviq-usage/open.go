package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

// open opens the outbox the flags name, and returns it with its name for
// messages (a Redis URL without its password).
func open(ctx context.Context, a args) (usage.Outbox, string, error) {
	if a.path != "" {
		return openFile(a.path)
	}
	return openRedis(ctx, a.redisURL, a.prefix)
}

func openFile(path string) (usage.Outbox, string, error) {
	// OpenFileOutbox creates a missing file: a typo must not make an
	// empty outbox that says nothing is queued.
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, path, fmt.Errorf("cannot read the outbox file: %w", err)
	case !st.Mode().IsRegular():
		return nil, path, fmt.Errorf("the outbox %s is not a regular file", path)
	}
	o, err := usage.OpenFileOutbox(path)
	if errors.Is(err, usage.ErrLocked) {
		return nil, path, fmt.Errorf("%s is held by a running Reporter; nothing was changed (stop it first, or call its RequeueDeadLetters/PurgeDeadLetters)", path)
	}
	if err != nil {
		return nil, path, fmt.Errorf("cannot open the outbox file %s: %w", path, err)
	}
	return o, path, nil
}

func openRedis(ctx context.Context, rawURL, prefix string) (usage.Outbox, string, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// The error may quote the URL, password and all: say only what is wrong.
		return nil, "", fmt.Errorf("-redis: not a Redis URL (want redis://[user:password@]host:port/db or rediss://…)")
	}
	name := fmt.Sprintf("Redis %s db %d prefix %q", opts.Addr, opts.DB, prefix)
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 30 * time.Second
	opts.MaxRetries = -1
	rdb := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, name, fmt.Errorf("cannot reach %s: %v", name, err)
	}
	o, err := redisoutbox.New(rdb, prefix)
	if err != nil {
		_ = rdb.Close()
		return nil, name, err
	}
	return closing{o, rdb}, name, nil
}

// closing closes the Redis client with the outbox, which leaves it open.
type closing struct {
	*redisoutbox.Outbox
	rdb *redis.Client
}

func (c closing) Close() error { return errors.Join(c.Outbox.Close(), c.rdb.Close()) }
