package usage_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
)

// After a key rotated at the wrong moment (kelviq answered 401 and the
// reports were parked), the fixed Reporter sends them again.
func ExampleReporter_RequeueDeadLetters() {
	dir, _ := os.MkdirTemp("", "usage-example")
	defer os.RemoveAll(dir)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer sk_test_new" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	path := filepath.Join(dir, "usage.db")

	old, _ := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_old"), kelviq.WithRetries(0))
	r, _ := usage.NewReporter(old, usage.WithPath(path))
	_ = r.Report(ctx, "cust-1", "api-calls", 5, "DELTA")
	_, _ = r.Flush(ctx)
	dl, _ := r.DeadLetters()
	fmt.Println("parked:", len(dl), "reason", dl[0].Reason)
	_ = r.Close(ctx)

	// The key is fixed: requeue what kelviq refused with 401.
	fixed, _ := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey("sk_test_new"), kelviq.WithRetries(0))
	r, _ = usage.NewReporter(fixed, usage.WithPath(path))
	defer r.Close(ctx)
	n, _ := r.RequeueDeadLetters(ctx, func(d usage.DeadLetter) bool { return d.Reason == "401" })
	left, err := r.Flush(ctx)
	fmt.Println("requeued:", n, "left:", left, err)
	// Output:
	// parked: 1 reason 401
	// requeued: 1 left: 0 <nil>
}

// A Reporter on an outbox the caller opened (and closes): the same file
// outbox WithPath opens, here given with WithOutbox.
func ExampleWithOutbox() {
	dir, _ := os.MkdirTemp("", "usage-example")
	defer os.RemoveAll(dir)
	outbox, err := usage.OpenFileOutbox(filepath.Join(dir, "usage.db"))
	if err != nil {
		fmt.Println(err) // wraps usage.ErrLocked when another process holds it
		return
	}
	defer outbox.Close() // after the Reporter's Close: the Reporter does not close it
	client, _ := kelviq.NewClient(kelviq.WithBaseURL("http://127.0.0.1:1"), kelviq.WithServerKey("sk_test_x"), kelviq.WithRetries(0))
	r, err := usage.NewReporter(client, usage.WithOutbox(outbox))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = r.Report(context.Background(), "cust-1", "api-calls", 1, "DELTA")
	fmt.Println("queued:", r.Stats().Queued)
	_ = r.Close(context.Background()) // (nothing sent: the address is closed)
	// Output: queued: 1
}
