package entitlements

import "github.com/kelviq/kelviq-go/api"

// fetchEditors are the request editors of the Checker's call to kelviq's
// getCustomerEntitlements.
//
// The Checker has its own retry budget: a customer's failed fetch is not
// tried again for a pause (staleRetryInterval, or kelviq's Retry-After up to
// the TTL), and every check of that customer in the pause is answered at
// once, stale or with ErrUnavailable. The client's own retries, inside one
// call, would multiply that budget (3 requests per fetch by default) and
// hold the first check for their backoff (0.2–1.1 s). So the fetch is
// meant to be one attempt, whatever the client's WithRetries.
//
// kelviq has no per-call retry option yet; until it has one (the planned
// kelviq.WithCallRetries, a request editor), this is empty and the client's
// retries happen inside the fetch: give the Checker a client made with
// kelviq.WithRetries(0) to have one request per fetch. With it:
//
//	var fetchEditors = []api.RequestEditorFn{kelviq.WithCallRetries(0)}
//
// (and TestFetchIsOneAttempt then runs instead of skipping).
var fetchEditors []api.RequestEditorFn
