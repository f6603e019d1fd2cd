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
//	switch {
//	case errors.Is(err, entitlements.ErrUnavailable):
//		// deny with 503: kelviq is unreachable, nothing recent is known
//	case err != nil:
//		// deny with 500: kelviq refused (a wrong key, an unknown customer)
//	case !ok:
//		// deny with 403: the customer's plan lacks the feature
//	}
//
// Only (false, nil) means "not in the plan": ok is false with every error,
// and an error read as a lost feature tells the end user the wrong thing.
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
// kelviq's answer is read entry by entry. A count is an integer in any
// JSON spelling of one (10, 10.0, 1e1, 1E+1, -0); a fraction or a value past
// int64 is an error naming the entry and the field. An entry that cannot
// be read costs its own feature, not the customer's others: that feature's
// checks give false and an error wrapping kelviq.ErrUnexpectedResponse
// (All leaves it out), the other features are answered as usual.
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
// An outage does not slow checks down. After a customer's fetch failed, the
// customer is not asked for again for a second (or for the Retry-After
// kelviq sent, up to the TTL): its checks are answered at once meanwhile,
// with its last known value, or, when nothing is known of it, with false
// and ErrUnavailable. So an outage costs one request per customer per
// pause, however many checks, and one fetch per customer runs at a time.
// After the pause, while the customer's failure is recent (the TTL), a
// check that has a last known value within its bound is answered with it
// at once and the customer is fetched in the background, so calls that
// hang until they time out delay no check but the first.
//
// A stale value stands in only for its own customer's failure: another
// customer's failure never serves this one's expired value (kelviq may be
// answering for it, and have revoked it); its checks wait for its own
// fetch, as long as their context allows (WithFetchTimeout, default 10 s,
// bounds the fetch itself). When a check's context deadline passes first,
// it is answered as if kelviq were unreachable (a timeout). A check its
// caller cancels is not an outage: it gives false and an error wrapping
// context.Canceled, never a stale value. The fetch goes on for the checks
// that share it.
//
// The Checker's fetch is meant to be one attempt: its own pause is its
// retry budget, and the client's retries (kelviq.WithRetries, 3 attempts by
// default) would multiply it and hold the first check for their backoff:
// the fetch is made with kelviq.WithCallRetries(0), whatever the client's
// WithRetries, so one fetch is one request.
//
// # The shared store
//
// A fetch reads the store before kelviq: a fresh record answers without a
// call, and an expired one within its bound is what stands in when kelviq
// then fails (a new instance during an outage answers from it after one
// failed call). During the pause after a failed fetch of a customer with
// nothing known, its checks still look in the store (one read at a time
// per customer), so a record another instance saved meanwhile answers
// rather than the failure. Each store read or write has its own budget
// (WithStoreTimeout, default 50 ms), apart from the fetch's: past it the
// check goes on to kelviq as if the store had missed, whether or not the
// Store honours its context (go-redis's defaults do not, for socket reads),
// and the store is left alone for a second. A slow, failing or hung store
// never costs kelviq's answer.
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
// # Memory
//
// WithMaxCustomers bounds memory, not just entries: customers with the
// same access share one map (interned), and the shared maps are bounded in
// bytes too (a few megabytes, least recently shared dropped first; a
// customer's map larger than 16 KiB is not shared), so that answers with
// huge feature IDs do not pin memory past the customers kept.
//
// # Observing
//
// Stats counts each check as one outcome (fresh hit, store hit, fetched,
// stale, error) and, across them, the denied ones; WithLogger logs the
// start and end of each outage of kelviq or of the store, once.
package entitlements
