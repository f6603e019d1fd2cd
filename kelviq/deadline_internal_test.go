package kelviq

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// A shared deadline carries the call's values, reports its deadline, ends
// with DeadlineExceeded, and is shared within a slot only.
func TestSharedDeadlineContext(t *testing.T) {
	d := &sharedDeadlines{timeout: 200 * time.Millisecond, slot: 50 * time.Millisecond}
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	start := time.Now()
	ctx, ok := d.context(parent)
	if !ok {
		t.Fatal("a context that cannot be cancelled did not get the shared deadline")
	}
	if ctx.Value(key{}) != "v" {
		t.Error("the call's values are lost")
	}
	dl, has := ctx.Deadline()
	if !has || dl.Before(start.Add(200*time.Millisecond)) || dl.After(start.Add(260*time.Millisecond)) {
		t.Errorf("deadline %v after the start, want 200ms to 250ms", dl.Sub(start))
	}
	again, _ := d.context(context.Background())
	if again.Done() != ctx.Done() {
		t.Error("two calls of one slot do not share the deadline")
	}
	cancellable, cancel := context.WithCancel(context.Background())
	if _, ok := d.context(cancellable); ok {
		t.Error("a cancellable context got the shared deadline")
	}
	cancel()

	// Contexts derived from it (net/http makes one per request) register
	// with the shared one: no goroutine each.
	before := runtime.NumGoroutine()
	var cancels []context.CancelFunc
	var children []context.Context
	for range 200 {
		c, cancel := context.WithCancel(ctx)
		children = append(children, c)
		cancels = append(cancels, cancel)
	}
	if after := runtime.NumGoroutine(); after > before+10 {
		t.Errorf("%d goroutines for 200 derived contexts", after-before)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the shared deadline never ended")
	}
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("ended after %v, before the timeout", elapsed)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
	}
	for _, c := range children {
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("a derived context ended with %v", c.Err())
		}
	}
	for _, cancel := range cancels {
		cancel()
	}
	later, _ := d.context(context.Background())
	if later.Done() == ctx.Done() || later.Err() != nil {
		t.Error("a call after the slot got the ended deadline")
	}
}

// Through a client: a call with context.Background() is bounded by the
// client's timeout on the shared path, ending with DeadlineExceeded; a
// WithCallTimeout still gets its own exact deadline.
func TestSharedDeadlineBoundsCalls(t *testing.T) {
	old := sharedDeadlineMin
	sharedDeadlineMin = 0
	t.Cleanup(func() { sharedDeadlineMin = old })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	var deadlines []time.Duration
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if dl, ok := r.Context().Deadline(); ok {
			deadlines = append(deadlines, time.Until(dl))
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c, err := NewClient(WithServerKey("sk_test_x"), WithBaseURL(srv.URL), WithRetries(0), WithHTTPClient(&http.Client{Transport: rt, Timeout: 300 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.ListCustomersWithResponse(context.Background(), nil)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if elapsed < 300*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("the call took %v, want the timeout (300ms, a slot of 3ms late at most)", elapsed)
	}
	start = time.Now()
	_, err = c.ListCustomersWithResponse(context.Background(), nil, WithCallTimeout(100*time.Millisecond))
	if elapsed := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || elapsed > 280*time.Millisecond {
		t.Errorf("WithCallTimeout(100ms): %v after %v", err, elapsed)
	}
	if len(deadlines) != 2 || deadlines[0] < 250*time.Millisecond || deadlines[1] > 100*time.Millisecond {
		t.Errorf("the transport saw deadlines %v, want ~300ms then ≤100ms", deadlines)
	}
}

// However long the client's timeout, about 100 shared deadlines are alive
// at once: a slot lives as long as the timeout, and each keeps the map of
// the calls it bounded at their most. Slots of at most a second kept
// 3,600 alive under a timeout of an hour (190 MB after a slow server with
// 1,000 calls in flight), 86,400 under a day.
func TestSharedDeadlinesAliveAreBounded(t *testing.T) {
	for _, timeout := range []time.Duration{10 * time.Second, DefaultTimeout, time.Hour, 24 * time.Hour, 365 * 24 * time.Hour} {
		d := newSharedDeadlines(timeout)
		if d == nil {
			continue // each call its own deadline
		}
		if alive := (d.timeout + d.slot) / d.slot; alive > 101 {
			t.Errorf("timeout %v: slots of %v, %d alive at once", timeout, d.slot, alive)
		}
		if d.slot > timeout/50 {
			t.Errorf("timeout %v: slots of %v, a call may end more than 2%% late", timeout, d.slot)
		}
	}
}
