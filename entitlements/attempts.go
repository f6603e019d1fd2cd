package entitlements

import (
	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// fetchEditors are the request editors of the Checker's call to kelviq's
// getCustomerEntitlements.
//
// The Checker has its own retry budget: a customer's failed fetch is not
// tried again for a pause (staleRetryInterval, or kelviq's Retry-After up to
// the TTL), and every check of that customer in the pause is answered at
// once, stale or with ErrUnavailable. The client's own retries, inside one
// call, would multiply that budget (3 requests per fetch by default) and
// hold the first check for their backoff (0.2–1.1 s). So the fetch is one
// attempt, whatever the client's WithRetries.
var fetchEditors = []api.RequestEditorFn{kelviq.WithCallRetries(0)}
