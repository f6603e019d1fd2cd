package redisoutbox_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/outboxtest"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

var prefixes atomic.Int64

// newClient returns a client on srv, closed when t ends.
func newClient(t testing.TB, srv *redistest.Server) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestConformance(t *testing.T) {
	srv := redistest.StartPersistent(t)
	rdb := newClient(t, srv)
	outboxtest.Run(t, func(t *testing.T) usage.Outbox {
		o, err := redisoutbox.New(rdb, fmt.Sprintf("conf%d:", prefixes.Add(1)), redisoutbox.WithLeaseTTL(400*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return o
	})
}
