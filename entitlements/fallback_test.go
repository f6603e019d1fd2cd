package entitlements_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
)

// The API goes down after one fetch: the last known value is served, marked
// stale, within max-stale; past it, the check is denied with ErrUnavailable.
func TestAPIDownServesStaleWithinMaxStale(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	logs := &logBuffer{}
	c, clk := newChecker(t, f, entitlements.WithMaxStale(time.Hour), entitlements.WithLogger(logs.logger()))
	mustHave(t, c, "cust", "sso", true)

	f.down(true)
	clk.advance(entitlements.DefaultTTL) // no longer fresh
	mustHave(t, c, "cust", "sso", true)
	e, err := c.Get(context.Background(), "cust", "sso")
	if err != nil || !e.Stale || !e.HasAccess {
		t.Fatalf("Get during the outage = %+v, %v; want a stale entitlement with access", e, err)
	}
	if want := clk.Now().Add(-entitlements.DefaultTTL); !e.FetchedAt.Equal(want) {
		t.Errorf("FetchedAt = %v, want the time of the last fetch %v", e.FetchedAt, want)
	}
	// Many checks during the outage ask kelviq once per retry interval, not
	// once per check, and the outage is logged once.
	calls := f.calls.Load()
	for range 50 {
		mustHave(t, c, "cust", "sso", true)
	}
	if got := f.calls.Load(); got != calls {
		t.Errorf("50 checks within the retry interval made %d calls, want 0", got-calls)
	}
	clk.advance(entitlements.StaleRetryInterval)
	mustHave(t, c, "cust", "sso", true) // stale at once, kelviq asked in the background
	waitFor(t, "the background call after the retry interval", func() bool { return f.calls.Load() == calls+1 })
	if got := logs.count("is failing"); got != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", got, logs)
	}

	clk.advance(time.Hour) // past max-stale
	ok, err := c.HasAccess(context.Background(), "cust", "sso")
	if ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("past max-stale: HasAccess = %v, %v; want false, ErrUnavailable", ok, err)
	}
	if _, err := c.Get(context.Background(), "cust", "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("past max-stale: Get error %v, want ErrUnavailable", err)
	}
	if _, err := c.All(context.Background(), "cust"); !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("past max-stale: All error %v, want ErrUnavailable", err)
	}
	if _, ok := errors.AsType[*kelviq.Error](err); ok {
		t.Errorf("a network error became a *kelviq.Error: %v", err)
	}

	f.down(false)
	clk.advance(entitlements.StaleRetryInterval)
	mustHave(t, c, "cust", "sso", true)
	if got := logs.count("answering again"); got != 1 {
		t.Errorf("the end of the outage was logged %d times, want once:\n%s", got, logs)
	}
	st := c.Stats()
	if st.StaleAnswers == 0 || st.Errors != 3 {
		t.Errorf("Stats = %+v, want stale answers and 3 errors", st)
	}
}

// A customer never seen while the API is down is denied, never granted.
func TestNeverSeenCustomerIsDenied(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	f.down(true)
	c, _ := newChecker(t, f)
	ok, err := c.HasAccess(context.Background(), "cust", "sso")
	if ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("HasAccess = %v, %v; want false, ErrUnavailable", ok, err)
	}
	if !strings.Contains(err.Error(), `"cust"`) {
		t.Errorf("the error does not name the customer: %v", err)
	}
}

// A 5xx and a 429 are outages: the last known value is served. Past
// max-stale the error wraps both ErrUnavailable and the API's error.
func TestServerErrorsAreServedStale(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFakeAPI(t)
			f.set("cust", `[`+meterTen+`]`)
			c, clk := newChecker(t, f, entitlements.WithMaxStale(time.Hour))
			mustHave(t, c, "cust", "api-calls", true)
			f.fail(status)
			clk.advance(entitlements.DefaultTTL)
			e, err := c.Get(context.Background(), "cust", "api-calls")
			if err != nil || !e.Stale || e.Remaining == nil || *e.Remaining != 6 {
				t.Fatalf("Get = %+v, %v; want the stale entitlement", e, err)
			}
			clk.advance(time.Hour)
			ok, err := c.HasAccess(context.Background(), "cust", "api-calls")
			if ok || !errors.Is(err, entitlements.ErrUnavailable) {
				t.Fatalf("past max-stale: %v, %v; want false, ErrUnavailable", ok, err)
			}
			apiErr, isAPI := errors.AsType[*kelviq.Error](err)
			if !isAPI || apiErr.StatusCode != status {
				t.Fatalf("the error %v does not wrap the API's %d", err, status)
			}
		})
	}
}

// A 4xx other than 429 is kelviq's answer: never masked by the cache, and
// it evicts the customer, so that nothing is served stale afterwards.
func TestClientErrorsAreNotMaskedAndEvict(t *testing.T) {
	for _, tc := range []struct {
		status   int
		sentinel error
	}{
		{http.StatusNotFound, kelviq.ErrNotFound},
		{http.StatusUnauthorized, kelviq.ErrUnauthorized},
		{http.StatusForbidden, kelviq.ErrForbidden},
		{http.StatusBadRequest, nil},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newFakeAPI(t)
			f.set("cust", `[`+boolOn+`]`)
			c, clk := newChecker(t, f)
			mustHave(t, c, "cust", "sso", true)
			f.fail(tc.status)
			clk.advance(entitlements.DefaultTTL)
			ok, err := c.HasAccess(context.Background(), "cust", "sso")
			apiErr, isAPI := errors.AsType[*kelviq.Error](err)
			if ok || !isAPI || apiErr.StatusCode != tc.status || errors.Is(err, entitlements.ErrUnavailable) {
				t.Fatalf("HasAccess = %v, %v; want false and the API's %d, not ErrUnavailable", ok, err, tc.status)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not match %v", err, tc.sentinel)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("the error contains the server key: %v", err)
			}
			// Evicted: with the API down now, nothing stale is left to serve.
			f.fail(0)
			f.down(true)
			ok, err = c.HasAccess(context.Background(), "cust", "sso")
			if ok || !errors.Is(err, entitlements.ErrUnavailable) {
				t.Fatalf("after the %d, with the API down: %v, %v; want false, ErrUnavailable (evicted)", tc.status, ok, err)
			}
		})
	}
}

// A customer kelviq does not know is a 404 on every check, never cached.
func TestUnknownCustomerIsNotFound(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := newChecker(t, f)
	for range 2 {
		if ok, err := c.HasAccess(context.Background(), "ghost", "sso"); ok || !errors.Is(err, kelviq.ErrNotFound) {
			t.Fatalf("HasAccess = %v, %v; want false, ErrNotFound", ok, err)
		}
	}
	if got := f.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2 (a 404 is never cached)", got)
	}
}

// WithMaxStaleFor bounds one feature: 0 never serves it stale, while the
// others of the same customer are.
func TestMaxStaleForFeature(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`,`+meterTen+`]`)
	c, clk := newChecker(t, f,
		entitlements.WithMaxStale(time.Hour),
		entitlements.WithMaxStaleFor("api-calls", 0),
		entitlements.WithMaxStaleFor("sso", 48*time.Hour))
	mustHave(t, c, "cust", "sso", true)
	f.down(true)
	clk.advance(entitlements.DefaultTTL)
	mustHave(t, c, "cust", "sso", true)
	if ok, err := c.HasAccess(context.Background(), "cust", "api-calls"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("api-calls with max-stale 0: %v, %v; want false, ErrUnavailable", ok, err)
	}
	all, err := c.All(context.Background(), "cust")
	if err != nil || len(all) != 1 || !all["sso"].Stale {
		t.Fatalf("All = %v, %v; want only sso, stale", all, err)
	}
	clk.advance(2 * time.Hour) // past the default bound, within sso's own
	mustHave(t, c, "cust", "sso", true)
	all, err = c.All(context.Background(), "cust")
	if err != nil || len(all) != 1 {
		t.Fatalf("All past the default bound = %v, %v; want sso alone", all, err)
	}
}

// WithMaxStale(0) never serves anything stale.
func TestMaxStaleZero(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithMaxStale(0))
	mustHave(t, c, "cust", "sso", true)
	f.fail(http.StatusInternalServerError)
	clk.advance(entitlements.DefaultTTL)
	if ok, err := c.HasAccess(context.Background(), "cust", "sso"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("HasAccess = %v, %v; want false, ErrUnavailable", ok, err)
	}
}

// A 200 that is not JSON (a captive portal, a proxy's page) is an outage,
// not an answer: it is never aggregated into "no access".
func TestNonJSONSuccessIsAnOutage(t *testing.T) {
	hostile := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>Sign in to the Wi-Fi</html>"))
	})
	for name, h := range map[string]http.Handler{
		"html": hostile,
		"empty 200": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
		}),
		"truncated json": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"entitlements":[{"featureId":"sso"`))
		}),
		// (A count beyond int64 costs its own feature only: see
		// TestUnreadableEntryCostsOnlyItsFeature.)
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.serveWith(h)
			c, _ := newChecker(t, f)
			ok, err := c.HasAccess(context.Background(), "cust", "sso")
			if ok || !errors.Is(err, entitlements.ErrUnavailable) {
				t.Fatalf("HasAccess = %v, %v; want false, ErrUnavailable", ok, err)
			}
		})
	}
}

// A check waits for kelviq only as long as its context allows; the fetch
// goes on and serves the next check.
func TestCheckWaitsNoLongerThanItsContext(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	release := f.hold()
	defer release()
	c, _ := newChecker(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.HasAccess(ctx, "cust", "sso")
		done <- err
	}()
	waitFor(t, "the request to reach the fake", func() bool { return f.calls.Load() == 1 })
	cancel()
	err := <-done
	// A caller's cancellation is not kelviq's outage (TestCallerCancelIsNotAnOutage).
	if errors.Is(err, entitlements.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled, not ErrUnavailable", err)
	}
	release()
	waitFor(t, "the fetch to be cached", func() bool {
		ok, err := c.HasAccess(context.Background(), "cust", "sso")
		return ok && err == nil
	})
	if got := f.calls.Load(); got != 1 {
		t.Errorf("%d calls, want 1: the cancelled check's fetch should have served the next", got)
	}
	// An already-cancelled context is refused without a call.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.HasAccess(ctx, "other", "sso"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("a cancelled check made a call")
	}
}

// After a customer's own fetch failed, a check of it with a last known
// value is answered at once, not after a call that hangs: the customer is
// fetched in the background, and its answer is used once kelviq answers
// again. (Another customer's failure does not do this for b: see
// TestOtherCustomersFailureServesNoStale.)
func TestHangingAPIDoesNotHoldChecks(t *testing.T) {
	f := newFakeAPI(t)
	f.set("a", `[`+boolOn+`]`)
	// A fetch timeout longer than the test: a check that waited for the
	// hanging call would hang the test.
	c, clk := newChecker(t, f, entitlements.WithFetchTimeout(time.Hour))
	mustHave(t, c, "a", "sso", true)

	f.fail(http.StatusServiceUnavailable) // kelviq starts failing
	clk.advance(entitlements.DefaultTTL)
	mustHave(t, c, "a", "sso", true) // one call, failed: stale

	release := f.hold() // now calls hang
	defer release()
	f.fail(0)
	f.set("a", `[]`)                             // a loses sso upstream
	clk.advance(entitlements.StaleRetryInterval) // the pause after a's failure is over
	calls := f.calls.Load()
	for range 10 {
		e, err := c.Get(context.Background(), "a", "sso")
		if err != nil || !e.Stale || !e.HasAccess {
			t.Fatalf("Get(a) = %+v, %v; want the stale answer at once", e, err)
		}
	}
	waitFor(t, "one background call for a", func() bool { return f.calls.Load() == calls+1 })
	release()
	waitFor(t, "a's new answer", func() bool {
		ok, err := c.HasAccess(context.Background(), "a", "sso")
		return err == nil && !ok
	})
	if got := f.calls.Load(); got != calls+1 {
		t.Errorf("%d calls for a, want 1", got-calls)
	}
	// A customer never seen still waits for its answer: there is nothing
	// to serve instead.
	f.set("new", `[`+boolOn+`]`)
	mustHave(t, c, "new", "sso", true)
}
