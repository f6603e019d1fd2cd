package entitlements_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Regression tests of issues 18 and 19: an outage must not slow the checks
// of customers with nothing known, one customer's failure must not stand in
// for another's answer, memory is bounded in bytes, and a count in any JSON
// spelling of a whole number is read.

// During an outage, a customer with nothing known costs one request per
// pause, not one per check: its failed fetch is remembered, and the checks
// of the pause fail at once with ErrUnavailable. 50 checks of one
// never-seen customer make 1 request, concurrently or one after another; 50
// customers make 50; after the pause, one new fetch is tried.
func TestUnknownCustomerFailureIsRemembered(t *testing.T) {
	f := newFakeAPI(t)
	f.fail(http.StatusServiceUnavailable)
	c, clk := newChecker(t, f)
	ctx := context.Background()
	denied := func(customer string) time.Duration {
		t.Helper()
		start := time.Now()
		ok, err := c.HasAccess(ctx, customer, "sso")
		if ok || !errors.Is(err, entitlements.ErrUnavailable) || !errors.Is(err, kelviq.ErrServerError) {
			t.Fatalf("HasAccess(%s) = %v, %v; want false, ErrUnavailable wrapping the 503", customer, ok, err)
		}
		return time.Since(start)
	}

	denied("never-seen") // the first: one request
	var slowest time.Duration
	for range 49 {
		slowest = max(slowest, denied("never-seen"))
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("50 checks of one never-seen customer made %d requests, want 1", got)
	}
	// Generous: a check that called again would show in the count above;
	// this catches one that waited for something else (a retry cycle).
	if slowest > time.Second {
		t.Errorf("the slowest check after the first took %v", slowest)
	}

	// Concurrently: one fetch at a time per customer, whose failure then
	// answers the rest.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { denied("concurrent") })
	}
	wg.Wait()
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("50 concurrent checks of one never-seen customer made %d requests, want 1", got-1)
	}

	for i := range 50 {
		denied(fmt.Sprint("customer-", i))
	}
	if got := f.calls.Load(); got != 52 {
		t.Fatalf("50 never-seen customers made %d requests, want 50", got-2)
	}

	// After the pause, one new fetch; then the next pause.
	clk.advance(entitlements.StaleRetryInterval)
	for range 10 {
		denied("never-seen")
	}
	if got := f.calls.Load(); got != 53 {
		t.Fatalf("after the pause, 10 checks made %d requests, want 1", got-52)
	}
	// kelviq back: the next fetch after the pause answers.
	f.fail(0)
	f.set("never-seen", `[`+boolOn+`]`)
	clk.advance(entitlements.StaleRetryInterval)
	mustHave(t, c, "never-seen", "sso", true)
	if st := c.Stats(); st.Errors != 1+49+50+50+10 || st.Denied != st.Errors || st.Fetched != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

// A Retry-After sets the pause of a never-seen customer too, up to the TTL.
func TestUnknownCustomerPauseHonoursRetryAfter(t *testing.T) {
	f := newFakeAPI(t)
	f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"detail":"slow down"}`))
	}))
	c, clk := newChecker(t, f)
	for range 5 {
		if _, err := c.HasAccess(context.Background(), "cust", "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		clk.advance(10 * time.Second) // 50 s, within the TTL
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("%d requests within the pause, want 1", got)
	}
	clk.advance(entitlements.DefaultTTL) // past the TTL: the cap of a Retry-After
	_, _ = c.HasAccess(context.Background(), "cust", "sso")
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("%d requests after the TTL, want 2", got)
	}
}

// An Invalidate forgets a never-seen customer's failure as it forgets an
// answer: the next check asks kelviq.
func TestInvalidateForgetsFailure(t *testing.T) {
	f := newFakeAPI(t)
	f.fail(http.StatusServiceUnavailable)
	c, _ := newChecker(t, f)
	_, _ = c.HasAccess(context.Background(), "cust", "sso")
	f.fail(0)
	f.set("cust", `[`+boolOn+`]`)
	c.Invalidate("cust") // the webhook: the customer now exists
	mustHave(t, c, "cust", "sso", true)
}

// The Checker's fetch is one attempt whatever the client's retries: the
// client's default (3 attempts) must not multiply the Checker's own budget
// of one request per customer per pause, nor hold the first check for its
// backoff (fetchEditors).
func TestFetchIsOneAttempt(t *testing.T) {
	f := newFakeAPI(t)
	f.fail(http.StatusServiceUnavailable)
	client, err := kelviq.NewClient(kelviq.WithServerKey(testKey), kelviq.WithBaseURL(f.srv.URL)) // default retries
	if err != nil {
		t.Fatal(err)
	}
	c, err := entitlements.New(client)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := c.HasAccess(context.Background(), "cust", "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("%d requests, want 1: the client's retries ran inside the Checker's fetch", got)
	}
}

// perCustomer is a fake kelviq whose answer depends on the customer.
func perCustomer(f *fakeAPI, answer func(w http.ResponseWriter, customer string)) {
	f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, r.URL.Query().Get("customer_id"))
	}))
}

func writeAnswer(w http.ResponseWriter, customer, entries string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"customerId":%q,"entitlements":%s}`, customer, entries)
}

// One customer's failure never serves another's expired answer: A fails
// (503), B is revoked; after the TTL, checks of A are answered stale, and
// B is denied by its own fetch, also while that fetch is slow.
func TestOtherCustomersFailureServesNoStale(t *testing.T) {
	f := newFakeAPI(t)
	f.set("a", `[`+boolOn+`]`)
	f.set("b", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithFetchTimeout(time.Hour))
	mustHave(t, c, "a", "sso", true)
	mustHave(t, c, "b", "sso", true)

	var bCalls atomic.Int64
	gate := make(chan struct{})
	var holdB atomic.Bool
	perCustomer(f, func(w http.ResponseWriter, customer string) {
		switch customer {
		case "a":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "b":
			bCalls.Add(1)
			if holdB.Load() {
				<-gate
			}
			writeAnswer(w, "b", `[]`) // b lost sso
		}
	})
	clk.advance(entitlements.DefaultTTL)
	if e, err := c.Get(context.Background(), "a", "sso"); err != nil || !e.Stale {
		t.Fatalf("Get(a) = %+v, %v; want a's own stale answer", e, err)
	}
	mustHave(t, c, "b", "sso", false)
	if got := bCalls.Load(); got != 1 {
		t.Fatalf("%d calls for b, want 1", got)
	}

	// Again, with b's answer slow: the checks of b that come while its
	// fetch is in flight wait for it, none is granted stale.
	f.set("b", `[`+boolOn+`]`)
	perCustomer(f, func(w http.ResponseWriter, customer string) {
		if customer == "b" {
			writeAnswer(w, "b", `[`+boolOn+`]`)
		}
	})
	c.Invalidate("b")
	mustHave(t, c, "b", "sso", true)
	perCustomer(f, func(w http.ResponseWriter, customer string) {
		switch customer {
		case "a":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "b":
			bCalls.Add(1)
			<-gate
			writeAnswer(w, "b", `[]`)
		}
	})
	clk.advance(entitlements.DefaultTTL)
	clk.advance(entitlements.StaleRetryInterval)
	_, _ = c.HasAccess(context.Background(), "a", "sso") // a fails again: kelviq "is failing"
	holdB.Store(true)
	var granted, answered atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			ok, err := c.HasAccess(context.Background(), "b", "sso")
			answered.Add(1)
			if ok || err != nil {
				granted.Add(1)
			}
		})
	}
	waitFor(t, "b's fetch to reach kelviq", func() bool { return bCalls.Load() == 2 })
	time.Sleep(20 * time.Millisecond) // the other checks arrive and must wait
	if n := answered.Load(); n != 0 {
		t.Fatalf("%d checks of b answered while b's fetch was in flight", n)
	}
	close(gate)
	wg.Wait()
	if n := granted.Load(); n != 0 {
		t.Fatalf("%d of 50 checks of b granted (or failed) while kelviq was answering b with no access", n)
	}
	if got := bCalls.Load(); got != 2 {
		t.Fatalf("%d calls for b, want 2", got)
	}
}

// One entry that cannot be read costs its own feature, not the customer's
// other features: a fractional count, a count past int64, a hasAccess that
// is not a bool. The feature's check fails with an error naming the entry
// and the field; its other entries do not grant it either.
func TestUnreadableEntryCostsOnlyItsFeature(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`,
		{"featureId":"seats","featureType":"METER","usageLimit":100,"currentUsage":0},
		{"featureId":"seats","featureType":"METER","usageLimit":10.5,"currentUsage":0},
		{"featureId":"huge","featureType":"METER","usageLimit":99999999999999999999},
		{"featureId":"flag","featureType":"BOOLEAN","hasAccess":"yes"},
		{"featureId":7,"featureType":"BOOLEAN","hasAccess":true}]`)
	c, _ := newChecker(t, f)
	ctx := context.Background()
	mustHave(t, c, "cust", "sso", true)
	for feature, field := range map[string]string{
		"seats": "entitlements[2].usageLimit: 10.5 is not a whole number",
		"huge":  "entitlements[3].usageLimit: 99999999999999999999 is out of range",
		"flag":  "entitlements[4].hasAccess",
	} {
		for range 2 { // from the fetch, then from memory
			ok, err := c.HasAccess(ctx, "cust", feature)
			if ok || err == nil || !strings.Contains(err.Error(), field) || !errors.Is(err, kelviq.ErrUnexpectedResponse) {
				t.Errorf("HasAccess(%s) = %v, %v; want false and an error naming %q", feature, ok, err, field)
			}
		}
		if _, err := c.Get(ctx, "cust", feature); err == nil || errors.Is(err, entitlements.ErrFeatureNotFound) {
			t.Errorf("Get(%s) err = %v; want the unreadable entry's error", feature, err)
		}
	}
	all, err := c.All(ctx, "cust")
	if err != nil || len(all) != 1 || !all["sso"].HasAccess {
		t.Fatalf("All = %v, %v; want sso alone", all, err)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("%d calls, want 1: the answer was cached", got)
	}
}

// A whole-number count written 10.0, 1e1, 1E+1 (JSON has one number type)
// gives the same answer as 10, from kelviq and from the store's record.
func TestIntegralCountsInAnySpelling(t *testing.T) {
	answer := func(limit, usage string) entitlements.Entitlement {
		t.Helper()
		f := newFakeAPI(t)
		f.set("cust", `[{"featureId":"seats","featureType":"METER","hasAccess":true,"usageLimit":`+limit+`,"currentUsage":`+usage+`,"remaining":`+limit+`}]`)
		s := &mapStore{m: map[string]entitlements.Record{}}
		c, _ := newChecker(t, f, entitlements.WithStore(s))
		e, err := c.Get(context.Background(), "cust", "seats")
		if err != nil {
			t.Fatalf("usageLimit %s: Get: %v", limit, err)
		}
		// A new instance reads the store's record of the same body.
		other, _ := newChecker(t, f, entitlements.WithStore(s))
		e2, err := other.Get(context.Background(), "cust", "seats")
		if err != nil || f.calls.Load() != 1 {
			t.Fatalf("usageLimit %s: from the store: %v (%d calls)", limit, err, f.calls.Load())
		}
		if *e2.UsageLimit != *e.UsageLimit || *e2.Remaining != *e.Remaining {
			t.Fatalf("usageLimit %s: the store's record reads %+v, kelviq's %+v", limit, e2, e)
		}
		return e
	}
	want := answer("10", "4")
	for _, spell := range [][2]string{{"10.0", "4.0"}, {"1e1", "4e0"}, {"1E+1", "0.4e1"}, {"10.00", "40e-1"}, {"100e-1", "4"}} {
		got := answer(spell[0], spell[1])
		if *got.UsageLimit != 10 || *got.CurrentUsage != 4 || *got.Remaining != *want.Remaining || got.HasAccess != want.HasAccess {
			t.Errorf("usageLimit %s, currentUsage %s: %+v; want the answer of 10, 4: %+v", spell[0], spell[1], got, want)
		}
	}
	// -0 is 0: no usage.
	if got := answer("5", "-0"); *got.CurrentUsage != 0 || *got.Remaining != 5 {
		t.Errorf("currentUsage -0: %+v", got)
	}
}

// The interned access sets are bounded in bytes: 100 customers, each with
// one feature whose ID is 512 KiB, under WithMaxCustomers(1), leave about
// one customer's worth on the heap, not 100. (Under the race detector, 25
// customers: they still pin 25 MB past the bound when the bound is broken,
// and 100 would cost 20 s of JSON decoding.)
func TestHugeFeatureIDsStayWithinMaxCustomers(t *testing.T) {
	f := newFakeAPI(t)
	perCustomer(f, func(w http.ResponseWriter, customer string) {
		id := strings.Repeat(customer[len(customer)-1:], 512<<10-len(customer)) + customer
		writeAnswer(w, customer, `[{"featureId":"`+id+`","featureType":"BOOLEAN","hasAccess":true}]`)
	})
	c, _ := newChecker(t, f, entitlements.WithMaxCustomers(1))
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	if _, err := c.All(context.Background(), "warm-up"); err != nil {
		t.Fatal(err)
	}
	before := heap()
	customers := 100
	if raceEnabled {
		customers = 25
	}
	for i := range customers {
		all, err := c.All(context.Background(), fmt.Sprint("cust-", i))
		if err != nil || len(all) != 1 {
			t.Fatalf("All(cust-%d) = %d features, %v", i, len(all), err)
		}
	}
	after := heap()
	runtime.KeepAlive(c)
	growth := int64(after) - int64(before)
	t.Logf("heap growth after %d customers × 512 KiB: %.1f MB", customers, float64(growth)/1e6)
	if growth > 10<<20 {
		t.Fatalf("heap grew by %.1f MB, want under 10 MB: memory past WithMaxCustomers", float64(growth)/1e6)
	}
	if held, _ := entitlements.InternedBytes(c); held > 1<<20 {
		t.Errorf("the interned sets hold %d bytes", held)
	}
}

// Stats count each check as one outcome: Hits + StoreHits + Fetched +
// StaleAnswers + Errors is the number of checks, whatever path each took
// (concurrent checks sharing a fetch, the store, stale, failures); Denied
// counts those that answered no access.
func TestStatsOneOutcomePerCheck(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	s := &mapStore{m: map[string]entitlements.Record{}}
	c, clk := newChecker(t, f, entitlements.WithStore(s))
	ctx := context.Background()
	var checks, denied atomic.Int64
	check := func(customer, feature string) {
		checks.Add(1)
		if ok, _ := c.HasAccess(ctx, customer, feature); !ok {
			denied.Add(1)
		}
	}
	release := f.hold()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { check("cust", "sso") }) // share one fetch
	}
	waitFor(t, "the shared fetch", func() bool { return f.calls.Load() == 1 })
	release()
	wg.Wait()
	check("cust", "absent")
	other, _ := newChecker(t, f, entitlements.WithStore(s), entitlements.WithClock(clk.Now))
	for range 5 {
		checks.Add(1)
		_, _ = other.HasAccess(ctx, "cust", "sso")
	}
	if st := other.Stats(); st.StoreHits != 1 || st.Hits != 4 {
		t.Errorf("other Stats = %+v, want 1 store hit and 4 hits", st)
	}
	clk.advance(entitlements.DefaultTTL)
	f.fail(http.StatusServiceUnavailable)
	for range 5 {
		check("cust", "sso")    // stale
		check("nobody", "sso")  // error
		check("cust", "absent") // stale, denied
	}
	st := c.Stats()
	st2 := other.Stats()
	sum := st.Hits + st.StoreHits + st.Fetched + st.StaleAnswers + st.Errors + st2.Hits + st2.StoreHits + st2.Fetched + st2.StaleAnswers + st2.Errors
	if sum != uint64(checks.Load()) {
		t.Errorf("outcomes add up to %d, want the %d checks: %+v %+v", sum, checks.Load(), st, st2)
	}
	if st.Denied != uint64(denied.Load()) {
		t.Errorf("Denied = %d, want %d", st.Denied, denied.Load())
	}
	if st.Fetched == 0 || st.StaleAnswers != 10 || st.Errors != 5 {
		t.Errorf("Stats = %+v", st)
	}
}

// An answer with thousands of unreadable entries is not kelviq's answer
// with a bad entry: it is refused whole (an outage, as an unreadable body
// is), so that it cannot cost memory per broken feature.
func TestAnswerOfUnreadableEntriesIsRefused(t *testing.T) {
	f := newFakeAPI(t)
	var b strings.Builder
	b.WriteString(`[` + boolOn)
	for i := range 2000 {
		fmt.Fprintf(&b, `,{"featureId":"f%d","featureType":"METER","usageLimit":0.5}`, i)
	}
	b.WriteString(`]`)
	f.set("cust", b.String())
	c, _ := newChecker(t, f)
	if ok, err := c.HasAccess(context.Background(), "cust", "sso"); ok || !errors.Is(err, entitlements.ErrUnavailable) || !errors.Is(err, kelviq.ErrUnexpectedResponse) {
		t.Fatalf("HasAccess = %v, %v; want false, ErrUnavailable wrapping ErrUnexpectedResponse", ok, err)
	}
}
