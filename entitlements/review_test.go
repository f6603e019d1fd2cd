package entitlements_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
)

// Regression tests of a hostile review: each failed before its fix.

// slowSaveStore is a mapStore whose Save waits until the test lets it go,
// so that a test can run something between a fetch's answer and its save.
type slowSaveStore struct {
	mapStore
	saving  chan struct{} // receives when a Save starts
	proceed chan struct{} // a Save returns once this is closed
}

func (s *slowSaveStore) Save(ctx context.Context, key string, r entitlements.Record, ttl time.Duration) error {
	s.saving <- struct{}{}
	<-s.proceed
	return s.mapStore.Save(ctx, key, r, ttl)
}

// An Invalidate that lands while a fetch is saving its (pre-invalidation)
// answer to the store must not leave that answer in the store: it would be
// served, fresh, to every instance for a TTL after the invalidation.
func TestInvalidateDuringStoreSave(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	s := &slowSaveStore{mapStore: mapStore{m: map[string]entitlements.Record{}}, saving: make(chan struct{}), proceed: make(chan struct{})}
	// A budget past the test's pauses: the save is waited for, as a store
	// answering within its budget is.
	c, _ := newChecker(t, f, entitlements.WithStore(s), entitlements.WithStoreTimeout(time.Minute))

	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.HasAccess(context.Background(), "cust", "sso")
	}()
	<-s.saving // the fetch has kelviq's answer and is saving it
	f.set("cust", `[]`)
	c.Invalidate("cust") // the customer lost sso: the webhook invalidates
	close(s.proceed)
	<-done

	s.mu.Lock()
	_, left := s.m["production:cust"]
	s.mu.Unlock()
	if left {
		t.Error("the pre-invalidation answer was left in the store")
	}
	go func() {
		for range s.saving { // later saves go through
		}
	}()
	defer close(s.saving)
	mustHave(t, c, "cust", "sso", false)
}

// A 4xx is kelviq answering: it ends an outage. Otherwise, after one 5xx,
// every customer with an expired value is granted access stale without a
// call while kelviq is refusing the key (403) for all of them.
func TestDefiniteAnswerEndsOutage(t *testing.T) {
	f := newFakeAPI(t)
	for _, id := range []string{"a", "b", "c"} {
		f.set(id, `[`+boolOn+`]`)
	}
	c, clk := newChecker(t, f, entitlements.WithMaxStaleFor("export", 0))
	for _, id := range []string{"a", "b", "c"} {
		mustHave(t, c, id, "sso", true)
	}
	clk.advance(entitlements.DefaultTTL)

	f.fail(http.StatusServiceUnavailable)
	mustHave(t, c, "a", "sso", true) // stale: kelviq is failing

	f.fail(http.StatusForbidden) // the key is revoked
	// A feature that is never served stale waits for kelviq's answer.
	if _, err := c.HasAccess(context.Background(), "b", "export"); !isStatus(err, http.StatusForbidden) {
		t.Fatalf("HasAccess(b, export) err = %v, want the 403", err)
	}
	// kelviq has answered: the next customer waits for its answer too
	// instead of being granted its stale value.
	ok, err := c.HasAccess(context.Background(), "c", "sso")
	if ok || !isStatus(err, http.StatusForbidden) {
		t.Fatalf("HasAccess(c, sso) = %v, %v; want false and the 403", ok, err)
	}
}

func isStatus(err error, status int) bool {
	apiErr, ok := errors.AsType[*kelviq.Error](err)
	return ok && apiErr.StatusCode == status
}

// An answer of kelviq that names another customer than the one asked for
// (a proxy that caches by path and drops the query string) is not used:
// it would give one customer another's entitlements.
func TestAnswerForAnotherCustomerIsRefused(t *testing.T) {
	f := newFakeAPI(t)
	f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"customerId":"paying","entitlements":[` + boolOn + `]}`))
	}))
	c, _ := newChecker(t, f)
	ok, err := c.HasAccess(context.Background(), "freeloader", "sso")
	if ok || !errors.Is(err, entitlements.ErrUnavailable) || !errors.Is(err, kelviq.ErrUnexpectedResponse) {
		t.Fatalf("HasAccess = %v, %v; want false, ErrUnavailable wrapping ErrUnexpectedResponse", ok, err)
	}
	if _, err := c.All(context.Background(), "freeloader"); err == nil {
		t.Fatal("All used another customer's answer")
	}
}

// A record of the store that names another customer (a key written by
// hand, a copy gone wrong, a hostile writer) is ignored: kelviq is asked.
func TestStoreRecordOfAnotherCustomerIsIgnored(t *testing.T) {
	f := newFakeAPI(t)
	f.set("free", `[]`)
	s := &mapStore{m: map[string]entitlements.Record{}}
	body, _ := json.Marshal(map[string]any{"customerId": "paying", "entitlements": []json.RawMessage{json.RawMessage(boolOn)}})
	c, clk := newChecker(t, f, entitlements.WithStore(s))
	s.m["production:free"] = entitlements.Record{FetchedAt: clk.Now(), Body: body}

	mustHave(t, c, "free", "sso", false)
	if got := f.calls.Load(); got != 1 {
		t.Errorf("%d calls, want 1: the foreign record was used", got)
	}
	// Nor is it served stale when kelviq is down.
	s.m["production:other"] = entitlements.Record{FetchedAt: clk.Now().Add(-time.Hour), Body: body}
	f.down(true)
	if ok, err := c.HasAccess(context.Background(), "other", "sso"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("HasAccess(other) = %v, %v; want false, ErrUnavailable", ok, err)
	}
}

// A check its caller cancelled is not an outage: it is not answered with
// the last known value (kelviq may have changed it, and is up), not counted
// as a stale answer, and its error is the cancellation, not ErrUnavailable.
func TestCallerCancelIsNotAnOutage(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f)
	mustHave(t, c, "cust", "sso", true)
	clk.advance(entitlements.DefaultTTL)
	f.set("cust", `[]`) // sso revoked upstream

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok, err := c.HasAccess(ctx, "cust", "sso")
	if ok || !errors.Is(err, context.Canceled) || errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("HasAccess(cancelled) = %v, %v; want false and context.Canceled, not ErrUnavailable", ok, err)
	}
	if all, err := c.All(ctx, "cust"); all != nil || !errors.Is(err, context.Canceled) || errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("All(cancelled) = %v, %v; want nil and context.Canceled", all, err)
	}
	if st := c.Stats(); st.StaleAnswers != 0 || st.Errors != 2 {
		t.Errorf("Stats = %+v, want no stale answer and 2 errors", st)
	}
	mustHave(t, c, "cust", "sso", false) // kelviq was up all along
}

// A 200 that cannot be read as kelviq's answer (kelviq.ErrUnexpectedResponse:
// empty, not JSON, JSON null, another customer's) is an outage, not a
// definite answer: the last known value is served stale within its bound,
// and neither memory nor the store forgets it; a feature never served
// stale is denied with ErrUnavailable.
func TestUnreadableSuccessServesStale(t *testing.T) {
	for name, body := range map[string]string{
		"empty":            ``,
		"null":             `null`,
		"another customer": `{"customerId":"someone-else","entitlements":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.set("cust", `[`+boolOn+`]`)
			s := &mapStore{m: map[string]entitlements.Record{}}
			c, clk := newChecker(t, f, entitlements.WithStore(s), entitlements.WithMaxStaleFor("export", 0))
			mustHave(t, c, "cust", "sso", true)
			f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
			}))
			clk.advance(entitlements.DefaultTTL)
			e, err := c.Get(context.Background(), "cust", "sso")
			if err != nil || !e.Stale || !e.HasAccess {
				t.Fatalf("Get = %+v, %v; want the stale value", e, err)
			}
			if _, err := c.HasAccess(context.Background(), "cust", "export"); !errors.Is(err, entitlements.ErrUnavailable) || !errors.Is(err, kelviq.ErrUnexpectedResponse) {
				t.Fatalf("HasAccess(export) err = %v; want ErrUnavailable wrapping ErrUnexpectedResponse", err)
			}
			s.mu.Lock()
			_, kept := s.m["production:cust"]
			s.mu.Unlock()
			if !kept {
				t.Error("the store's record was erased by an unreadable 200")
			}
		})
	}
}

// An answer for another customer is refused without quoting the customer
// it names: a hostile server that echoes the Authorization header there
// must not get the key into errors or logs.
func TestForeignCustomerErrorHoldsNoKey(t *testing.T) {
	f := newFakeAPI(t)
	f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body, _ := json.Marshal(map[string]any{"customerId": r.Header.Get("Authorization"), "entitlements": []any{}})
		_, _ = w.Write(body)
	}))
	logs := &logBuffer{}
	c, _ := newChecker(t, f, entitlements.WithLogger(logs.logger()))
	_, err := c.HasAccess(context.Background(), "cust", "sso")
	if !errors.Is(err, kelviq.ErrUnexpectedResponse) {
		t.Fatalf("err = %v, want ErrUnexpectedResponse", err)
	}
	for _, where := range []string{logs.String(), err.Error()} {
		if strings.Contains(where, testKey) {
			t.Fatalf("the server key leaked: %s", where)
		}
	}
}

// A record dated in the future beyond the allowed skew (an instance whose
// clock runs an hour ahead saved it) has an unknown age: it must not be
// served stale, where its real age may be far past the feature's bound.
func TestFutureRecordIsNeverServedStale(t *testing.T) {
	f := newFakeAPI(t)
	s := &mapStore{m: map[string]entitlements.Record{}}
	c, clk := newChecker(t, f, entitlements.WithStore(s), entitlements.WithMaxStaleFor("sso", 2*time.Minute))
	body := []byte(`{"customerId":"cust","entitlements":[` + boolOn + `]}`)
	// Fetched now by an instance an hour ahead.
	s.m["production:cust"] = entitlements.Record{FetchedAt: clk.Now().Add(time.Hour), Body: body}
	clk.advance(50 * time.Minute) // its real age: 50 minutes
	f.down(true)
	if ok, err := c.HasAccess(context.Background(), "cust", "sso"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("HasAccess = %v, %v; want false, ErrUnavailable: a 50-minute-old record served within a 2-minute bound", ok, err)
	}
}

// Stats count each check exactly once, through every path: hits, misses
// (fetched, from the store, stale, failed), calls, stale answers, errors.
func TestStatsAreExact(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	s := &mapStore{m: map[string]entitlements.Record{}}
	c, clk := newChecker(t, f, entitlements.WithStore(s))
	ctx := context.Background()
	mustHave(t, c, "cust", "sso", true) // miss, call
	mustHave(t, c, "cust", "sso", true) // hit
	_, _ = c.Get(ctx, "cust", "sso")    // hit
	_, _ = c.All(ctx, "cust")           // hit
	_, _ = c.HasAccess(ctx, "", "sso")  // error, no hit or miss
	_, _ = c.Get(ctx, "cust", "absent") // hit: an answer, not an error
	c.Invalidate("cust")                //
	mustHave(t, c, "cust", "sso", true) // miss, call
	other, _ := newChecker(t, f, entitlements.WithStore(s))
	mustHave(t, other, "cust", "sso", true) // miss, store hit
	clk.advance(entitlements.DefaultTTL)
	f.fail(http.StatusBadGateway)
	mustHave(t, c, "cust", "sso", true)          // miss, call, stale
	mustHave(t, c, "cust", "sso", true)          // miss, stale (no call for a second)
	_, _ = c.HasAccess(ctx, "never-seen", "sso") // miss, call, error
	// Each check is one of Hits, StoreHits, Fetched, StaleAnswers, Errors;
	// Denied are those that answered no access (the empty ID, absent, never-seen).
	want := entitlements.Stats{Hits: 4, Misses: 5, APICalls: 4, StaleAnswers: 2, Fetched: 2, Denied: 3, Errors: 2}
	if got := c.Stats(); got != want {
		t.Errorf("Stats = %+v\nwant    %+v", got, want)
	}
	if got, want := other.Stats(), (entitlements.Stats{Misses: 1, StoreHits: 1}); got != want {
		t.Errorf("other Stats = %+v, want %+v", got, want)
	}
}

// WithMaxStaleFor given twice for one feature is a mistake (two parts of a
// configuration disagree), not a silent override: New names it. Otherwise
// a later WithMaxStaleFor("export", 24h) quietly undoes a 0 that was
// meant to never serve the export stale.
func TestMaxStaleForTwiceIsRefused(t *testing.T) {
	f := newFakeAPI(t)
	_, err := entitlements.New(f.client(t),
		entitlements.WithMaxStaleFor("export", 0),
		entitlements.WithMaxStaleFor("export", 24*time.Hour))
	if err == nil || !strings.Contains(err.Error(), `WithMaxStaleFor("export"`) {
		t.Fatalf("New = %v; want an error naming WithMaxStaleFor(\"export\", …)", err)
	}
}

// WithMaxStaleFor(feature, 0) never serves that feature stale, by any path:
// HasAccess, Get, All, the fast stale answer while kelviq is failing, the
// retry window after a failed call, refresh-ahead, and a restarted
// instance that has only the store's record.
func TestZeroMaxStaleNeverStaleAnyPath(t *testing.T) {
	const export = `{"featureId":"export","featureType":"BOOLEAN","hasAccess":true}`
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`,`+export+`]`)
	f.set("warm", `[`+boolOn+`,`+export+`]`)
	s := &mapStore{m: map[string]entitlements.Record{}}
	opts := []entitlements.Option{entitlements.WithStore(s), entitlements.WithMaxStaleFor("export", 0), entitlements.WithRefreshAhead(10 * time.Second)}
	c, clk := newChecker(t, f, opts...)
	ctx := context.Background()
	mustHave(t, c, "cust", "export", true)
	mustHave(t, c, "warm", "export", true)
	clk.advance(55 * time.Second) // in the refresh-ahead window
	f.down(true)
	mustHave(t, c, "warm", "export", true) // fresh still; starts a refresh that fails
	clk.advance(5 * time.Second)           // now expired, kelviq failing

	denied := func(where string) {
		t.Helper()
		if ok, err := c.HasAccess(ctx, "cust", "export"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
			t.Fatalf("%s: HasAccess(export) = %v, %v; want false, ErrUnavailable", where, ok, err)
		}
		if _, err := c.Get(ctx, "cust", "export"); !errors.Is(err, entitlements.ErrUnavailable) {
			t.Fatalf("%s: Get(export) err = %v; want ErrUnavailable", where, err)
		}
		all, err := c.All(ctx, "cust")
		if _, has := all["export"]; has || err != nil || !all["sso"].Stale {
			t.Fatalf("%s: All = %v, %v; want sso stale and no export", where, all, err)
		}
	}
	denied("first failure")
	mustHave(t, c, "cust", "sso", true) // the default bound still serves sso
	denied("retry window")
	clk.advance(entitlements.StaleRetryInterval)
	denied("kelviq failing")
	if ok, err := c.HasAccess(ctx, "warm", "export"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("after a failed refresh-ahead: HasAccess(warm, export) = %v, %v", ok, err)
	}

	restarted, _ := newChecker(t, f, append(opts, entitlements.WithClock(clk.Now))...)
	if ok, err := restarted.HasAccess(ctx, "cust", "export"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
		t.Fatalf("restarted with the store's old record: HasAccess(export) = %v, %v", ok, err)
	}
}

// A 429's Retry-After is honoured, up to the TTL: a customer's last known
// value is served without asking kelviq again until then, instead of one
// call per customer per second against an API that asked for a pause.
// (Checks of a feature never served stale wait for their call, so the
// calls are counted without racing a background one.)
func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	c, clk := newChecker(t, f, entitlements.WithMaxStaleFor("export", 0))
	mustHave(t, c, "cust", "sso", true)
	f.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"detail":"slow down"}`))
	}))
	clk.advance(entitlements.DefaultTTL)
	unavailable := func() {
		t.Helper()
		if ok, err := c.HasAccess(context.Background(), "cust", "export"); ok || !errors.Is(err, entitlements.ErrUnavailable) {
			t.Fatalf("HasAccess(export) = %v, %v; want false, ErrUnavailable", ok, err)
		}
	}
	unavailable() // one call, the 429: 2 so far
	for range 10 {
		clk.advance(2 * time.Second) // 20 s of checks
		unavailable()
		mustHave(t, c, "cust", "sso", true) // stale
	}
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("%d calls within the Retry-After, want 2", got)
	}
	clk.advance(10 * time.Second)
	unavailable()
	if got := f.calls.Load(); got != 3 {
		t.Fatalf("%d calls after the Retry-After, want 3", got)
	}
}

// Keys cannot collide: customer IDs holding ':' or another environment's
// name, in two environments sharing one store, each read their own record.
func TestStoreKeysDoNotCollide(t *testing.T) {
	s := &mapStore{m: map[string]entitlements.Record{}}
	ids := []string{"a", "a:b", ":a", "a:", "production:a", "sandbox:a", "test:ent:a", "a b", "é"}
	envs := []kelviq.Environment{kelviq.Production, kelviq.Sandbox}
	checker := func(env kelviq.Environment, f *fakeAPI) *entitlements.Checker {
		cl, err := kelviq.NewClient(kelviq.WithServerKey(testKey), kelviq.WithBaseURL(f.srv.URL), kelviq.WithEnvironment(env), kelviq.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		c, err := entitlements.New(cl, entitlements.WithStore(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	feature := func(env kelviq.Environment, id string) string { return string(env) + "/" + id }
	for _, env := range envs {
		f := newFakeAPI(t)
		for _, id := range ids {
			// Each (environment, customer) has its own feature.
			f.set(id, `[{"featureId":`+jsonQuote(feature(env, id))+`,"featureType":"BOOLEAN","hasAccess":true}]`)
		}
		c := checker(env, f)
		for _, id := range ids {
			mustHave(t, c, id, feature(env, id), true)
		}
	}
	if got, want := len(s.m), len(envs)*len(ids); got != want {
		t.Fatalf("%d records in the store, want %d (one per environment and customer)", got, want)
	}
	// New instances, kelviq down: each answers from its own record only.
	down := newFakeAPI(t)
	down.down(true)
	for _, env := range envs {
		c := checker(env, down)
		for _, id := range ids {
			mustHave(t, c, id, feature(env, id), true)
			for _, env2 := range envs {
				for _, id2 := range ids {
					if env2 != env || id2 != id {
						mustHave(t, c, id, feature(env2, id2), false)
					}
				}
			}
		}
	}
	if got := down.calls.Load(); got != 0 {
		t.Errorf("%d calls: the records were not read", got)
	}
}

func jsonQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// A 408 is a timeout (the kelviq client retries it as one), not kelviq's
// answer about the customer: the last known value is served stale, and
// neither memory nor the shared store forgets the customer.
func TestRequestTimeoutIsAnOutage(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	s := &mapStore{m: map[string]entitlements.Record{}}
	c, clk := newChecker(t, f, entitlements.WithStore(s))
	mustHave(t, c, "cust", "sso", true)
	f.fail(http.StatusRequestTimeout)
	clk.advance(entitlements.DefaultTTL)
	e, err := c.Get(context.Background(), "cust", "sso")
	if err != nil || !e.Stale || !e.HasAccess {
		t.Fatalf("Get after a 408 = %+v, %v; want the stale value", e, err)
	}
	s.mu.Lock()
	_, kept := s.m["production:cust"]
	s.mu.Unlock()
	if !kept {
		t.Error("a 408 erased the customer's record from the store")
	}
	if _, err := c.HasAccess(context.Background(), "never-seen", "sso"); !errors.Is(err, entitlements.ErrUnavailable) {
		t.Errorf("a never-seen customer on a 408: err = %v, want ErrUnavailable", err)
	}
}

// An instance that saw kelviq fail, and since answers every miss from the
// store's fresh records (another instance fetched them), does not go on
// serving its own stale values without waiting forever: kelviq's failure
// counts as current for a bounded time (the TTL) after it was last seen.
// Otherwise it gave one stale answer per customer per TTL indefinitely,
// here a revoked feature, with kelviq up and the revocation in the store.
func TestOldFailureDoesNotKeepServingStale(t *testing.T) {
	f := newFakeAPI(t)
	f.set("cust", `[`+boolOn+`]`)
	s := &mapStore{m: map[string]entitlements.Record{}}
	a, clk := newChecker(t, f, entitlements.WithStore(s))
	b, _ := newChecker(t, f, entitlements.WithStore(s), entitlements.WithClock(clk.Now))
	mustHave(t, a, "cust", "sso", true)
	f.fail(http.StatusServiceUnavailable)
	clk.advance(entitlements.DefaultTTL)
	mustHave(t, a, "cust", "sso", true) // stale: kelviq is failing

	f.fail(0)
	f.set("cust", `[]`) // kelviq is back; sso revoked
	for range 3 {
		clk.advance(entitlements.DefaultTTL)
		mustHave(t, b, "cust", "sso", false) // b fetches and saves the revocation
		e, err := a.Get(context.Background(), "cust", "sso")
		if !errors.Is(err, entitlements.ErrFeatureNotFound) {
			t.Fatalf("a.Get = %+v, %v; want the store's fresh revocation, not a stale grant", e, err)
		}
	}
}
