package redisstore_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/entitlements/redisstore"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Every instance of the app shares one Redis: what one instance fetched
// from kelviq, the others read from Redis instead of calling kelviq.
func Example() {
	client, err := kelviq.NewClient(kelviq.FromEnv())
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:               "localhost:6379",
		DialTimeout:        200 * time.Millisecond,
		ReadTimeout:        100 * time.Millisecond,
		WriteTimeout:       100 * time.Millisecond,
		MaxRetries:         -1, // the Checker falls back to kelviq instead
		DialerRetries:      1,
		DialerRetryTimeout: 10 * time.Millisecond,
	})
	checker, err := entitlements.New(client,
		entitlements.WithStore(redisstore.New(rdb, "myapp:entitlements:")))
	if err != nil {
		log.Fatal(err)
	}
	ok, err := checker.HasAccess(context.Background(), "cust_123", "advanced-analytics")
	log.Println(ok, err)
}
