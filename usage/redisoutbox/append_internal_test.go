package redisoutbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/redistest"
	"github.com/kelviq/kelviq-go/usage"
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

// A batch whose second pair's key holds something else (another app
// writing under the prefix) fails whole: the first pair's report is not
// stored either, and the error wraps ErrUnavailable naming Redis.
func TestAppendAllOrNoneInRedis(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	o, err := New(rdb, "poison:")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := rdb.Set(ctx, o.base+":q:"+pairMember("c", "bad"), "not a list", 0).Err(); err != nil {
		t.Fatal(err)
	}
	good := usage.Report{CustomerID: "c", FeatureID: "good", Value: 1, Behaviour: api.ReportUsageRequestBehaviourDELTA, StoredAt: time.Now()}
	bad := good
	bad.FeatureID = "bad"
	err = o.Append(ctx, []usage.Report{good, bad})
	if !errors.Is(err, usage.ErrUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Fatalf("Append onto a key of another type: %v, want ErrUnavailable with WRONGTYPE", err)
	}
	if s, err := o.Summary(ctx); err != nil || s.Queued != 0 {
		t.Fatalf("after the failed batch Summary = %+v, %v; want nothing queued", s, err)
	}
	if n, err := rdb.Exists(ctx, o.base+":q:"+pairMember("c", "good")).Result(); err != nil || n != 0 {
		t.Fatalf("the good pair's list exists (%d, %v) after the failed batch", n, err)
	}
}
