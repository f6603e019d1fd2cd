package redisoutbox_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/redisoutbox"
)

// Every replica of the app reports into one Redis: any replica delivers
// any report, and a replica that dies leaves nothing behind that the others
// do not send.
func Example() {
	client, err := kelviq.NewClient(kelviq.FromEnv())
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:        "redis:6379",
		ReadTimeout: time.Second, // a Report fails fast when Redis hangs
		MaxRetries:  1,           // the sender retries by itself; Report should fail fast
	})
	outbox, err := redisoutbox.New(rdb, "myapp:usage:",
		redisoutbox.WithRequiredPersistence("always")) // refuse a Redis that can lose acknowledged reports
	if err != nil {
		log.Fatal(err)
	}
	r, err := usage.NewReporter(client, usage.WithOutbox(outbox))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close(context.Background())
	if err := r.Report(context.Background(), "cust_123", "api-calls", 1, api.ReportUsageRequestBehaviourDELTA); err != nil {
		log.Println("not stored:", err) // errors.Is(err, usage.ErrUnavailable) when Redis is down
	}
}

// Dead letters (a rotated server key answered 401) go back to the queue
// once the key is fixed; any Reporter on the prefix sends them.
func ExampleOutbox_RequeueDeadLetters() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
	outbox, err := redisoutbox.New(rdb, "myapp:usage:")
	if err != nil {
		log.Fatal(err)
	}
	n, err := outbox.RequeueDeadLetters(context.Background(), func(dl usage.DeadLetter) bool { return dl.Reason == "401" })
	log.Println(n, err)
}
