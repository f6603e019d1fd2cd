// Package entitlements gates features in one call: does this customer have
// access to this feature? It answers from kelviq's getCustomerEntitlements,
// cached in memory and, optionally, in a store shared by every instance of
// your app (Redis: package redisstore), and stays safe when kelviq cannot be
// reached.
//
//	client, err := kelviq.NewClient(kelviq.FromEnv())
//	…
//	checker, err := entitlements.New(client)
//	…
//	ok, err := checker.HasAccess(ctx, "cust_123", "advanced-analytics")
//	if err != nil || !ok {
//		// deny: err says why when kelviq could not answer
//	}
//
// # What one check does
//
// Memory first: an answer younger than the TTL (WithTTL, default 60 s) is
// used as it is; this costs about 100 ns and no allocation. Then the shared
// store (WithStore), then kelviq: one call per customer serves all its
// features, concurrent checks of one customer share that call, and its
// answer refreshes memory and the store. Memory holds at most
// WithMaxCustomers customers (default 100,000), the least recently checked
// evicted first. WithRefreshAhead refreshes customers that are checked
// continually in the background, before their answer expires, so they never
// wait on kelviq.
//
// # Aggregation
//
// kelviq returns one entry per subscription or add-on granting a feature.
// They are combined per feature as kelviq's own SDKs do: for a METER the
// limits and usage are summed and access lasts while some remains (or the
// limit is unknown); for a CUSTOMIZABLE the first entry's values stand; for
// any other type (BOOLEAN) access is granted when any entry grants it. A
// feature absent from the customer's entitlements is no access:
// HasAccess gives (false, nil), Get an error wrapping ErrFeatureNotFound.
// See Entitlement for every field.
//
// # When kelviq is down
//
// On a network error, a timeout (408 included), a 429 or a 5xx, the last
// known value is served, marked Stale, while it is younger than the
// max-stale bound: WithMaxStale (default 24 h), or WithMaxStaleFor for one
// feature, where 0 means never serve this feature stale. Choose the bound
// by the risk of the feature. Past it, or when nothing was ever known of
// the customer, a check is denied: HasAccess gives false and an error
// wrapping ErrUnavailable and the API's error. Access is never granted
// without an answer.
//
// A 4xx answer other than 408 and 429 (401 a wrong key, 403, 404 an
// unknown customer) is kelviq's definite answer: it is returned as it is (a
// *kelviq.Error; test it with errors.Is(err, kelviq.ErrNotFound)), never
// hidden behind a cached value, and it forgets the customer.
//
// An outage does not slow checks down. After a failed call, the customer's
// last known value is served without asking kelviq again for a second (or
// for the Retry-After kelviq sent, up to the TTL); and while kelviq is
// failing, a check that has a last known value within its bound is
// answered with it at once while the customer is fetched in the
// background, so calls that hang until they time out delay no check but
// the first. Otherwise a check waits for a call at most as long as its context
// allows (WithFetchTimeout, default 10 s, bounds the call itself); when its
// context's deadline passes first, it is answered as if kelviq were
// unreachable (a timeout). A check its caller cancels is not an outage: it
// gives false and an error wrapping context.Canceled, never a stale value.
// The call goes on for the checks that share it. The kelviq.Client's own
// retries (kelviq.WithRetries) happen inside that call.
//
// An answer that names another customer than the one asked for (a proxy
// caching by path alone, a store record under the wrong key) is never
// used: from kelviq it counts as unavailable, from the store it is ignored.
//
// # Keeping answers current
//
// Invalidate forgets a customer in memory and in the store. A fetch already
// in progress still answers the checks waiting for it, but its answer,
// which may predate the invalidation, is kept neither in memory nor in the
// store (the fetch deletes its own save again when the two cross). Wire
// kelviq's webhooks to it with WebhookHandlerFunc, so that a subscription
// or an order changing invalidates its customer at once rather than at the
// end of the TTL.
//
// Stats counts hits, misses, calls, stale answers and errors; WithLogger
// logs the start and end of each outage of kelviq or of the store, once.
package entitlements
