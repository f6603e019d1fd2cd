package entitlements_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/entitlements"
)

// benchEntries is a customer with ten features, one of them a meter.
const benchEntries = `[` + meterTen + `,` + boolOn +
	`,{"featureId":"f2","featureType":"BOOLEAN","hasAccess":true},{"featureId":"f3","featureType":"BOOLEAN","hasAccess":true}` +
	`,{"featureId":"f4","featureType":"BOOLEAN","hasAccess":true},{"featureId":"f5","featureType":"BOOLEAN","hasAccess":true}` +
	`,{"featureId":"f6","featureType":"BOOLEAN","hasAccess":true},{"featureId":"f7","featureType":"BOOLEAN","hasAccess":true}` +
	`,{"featureId":"f8","featureType":"BOOLEAN","hasAccess":true},{"featureId":"f9","featureType":"CUSTOMIZABLE","hasAccess":true,"usageLimit":30}]`

// warmChecker returns a Checker with n customers in memory.
func warmChecker(b *testing.B, n int) (*entitlements.Checker, []string) {
	b.Helper()
	f := startFakeAPI(b, true)
	c, err := entitlements.New(f.client(b))
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "cust_" + strconv.Itoa(i)
		f.set(ids[i], benchEntries)
		if ok, err := c.HasAccess(context.Background(), ids[i], "sso"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	return c, ids
}

// A check answered from memory. Goal: at most 200 ns and 0 allocs per op.
func BenchmarkHasAccessCached(b *testing.B) {
	b.Run("one-customer", func(b *testing.B) {
		c, ids := warmChecker(b, 1)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := c.HasAccess(ctx, ids[0], "api-calls"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	// Many customers: the LRU is sharded, lookups go through the hash.
	b.Run("10k-customers", func(b *testing.B) {
		c, ids := warmChecker(b, 10_000)
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if ok, err := c.HasAccess(ctx, ids[i%len(ids)], "f5"); !ok || err != nil {
				b.Fatal(ok, err)
			}
			i++
		}
	})
}

// Cached checks from every core at once (b.RunParallel), against the same
// checks from one goroutine: "sequential" is the reference of the ratio.
func BenchmarkHasAccessParallel(b *testing.B) {
	c, ids := warmChecker(b, 10_000)
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if ok, err := c.HasAccess(ctx, ids[i%len(ids)], "sso"); !ok || err != nil {
				b.Fatal(ok, err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1000)) // each goroutine its own run of customers
			for pb.Next() {
				if ok, err := c.HasAccess(ctx, ids[i%len(ids)], "sso"); !ok || err != nil {
					b.Error(ok, err)
					return
				}
				i++
			}
		})
	})
}

// A cold miss (one API call over loopback, aggregation, caching) beside the
// raw generated call it makes: "baseline" is the reference of the ratio.
func BenchmarkColdMiss(b *testing.B) {
	f := startFakeAPI(b, true)
	f.set("cust", benchEntries)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		client := f.client(b)
		b.ReportAllocs()
		for b.Loop() {
			res, err := client.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: "cust"})
			if err != nil || res.JSON200 == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("checker", func(b *testing.B) {
		c, err := entitlements.New(f.client(b))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			c.Invalidate("cust")
			if ok, err := c.HasAccess(ctx, "cust", "sso"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// A check during an outage, of a customer with nothing known, in the pause
// after its failed fetch: answered at once with ErrUnavailable, no call.
func BenchmarkOutageUnknownCustomer(b *testing.B) {
	f := startFakeAPI(b, true)
	f.fail(http.StatusServiceUnavailable)
	c, err := entitlements.New(f.client(b), entitlements.WithClock(func() time.Time { return time.Unix(1e9, 0) }))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	_, _ = c.HasAccess(ctx, "cust", "sso") // the failed fetch
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.HasAccess(ctx, "cust", "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
			b.Fatal(err)
		}
	}
	if got := f.calls.Load(); got != 1 {
		b.Fatalf("%d calls, want 1", got)
	}
}
