package redisoutbox

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/internal/redistest"
)

// go-redis sends a script again when the connection broke before its
// answer: the same batch must not be stored twice.
func TestAppendScriptIsIdempotentPerBatch(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	o, err := New(rdb, "idem:")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	args := []any{o.base, 2, "batch-1", pairMember("c", "f"), "1", "D1", pairMember("c", "g"), "2", "D2"}
	for range 2 {
		if err := appendScript.Run(ctx, rdb, o.keys, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := o.Summary(ctx)
	if err != nil || s.Queued != 2 {
		t.Fatalf("after the same batch twice Summary = %+v, %v; want 2 queued", s, err)
	}
	args[2] = "batch-2"
	if err := appendScript.Run(ctx, rdb, o.keys, args...).Err(); err != nil {
		t.Fatal(err)
	}
	if s, _ := o.Summary(ctx); s.Queued != 4 {
		t.Fatalf("another batch: %d queued, want 4", s.Queued)
	}
}
