package entitlements

import (
	"errors"
	"net/http"

	"github.com/kelviq/kelviq-go/kelviq"
)

// ErrUnavailable is wrapped by the error of a check that kelviq could not
// answer (a network error, a timeout, a 429 or a 5xx) when no last known
// value is young enough to serve instead: none was ever fetched, or it is
// older than the feature's max-stale bound. The error wraps the API's error
// too. HasAccess returns false with it: access is never granted without an
// answer.
var ErrUnavailable = errors.New("entitlements: kelviq is unavailable and no usable last known value exists")

// ErrFeatureNotFound is wrapped by the error of Get when the customer has no
// entitlement for the feature. HasAccess answers (false, nil) instead.
var ErrFeatureNotFound = errors.New("entitlements: feature not found in the customer's entitlements")

// errInvalidArgument is wrapped by the error of a call with an empty ID.
var errInvalidArgument = errors.New("entitlements: invalid argument")

// transient reports whether err is an outage of the API rather than its
// answer: anything but an *kelviq.Error of a definite client error (a 4xx
// other than 408 and 429, or another status the operation does not answer
// with on success) and the client's configuration errors. Network errors, timeouts,
// a 200 that is not JSON or names another customer (a proxy in the way,
// kelviq.ErrUnexpectedResponse) are all transient: the last known value may
// stand in for the answer. A 200 kelviq cannot be told from a proxy's is
// not a definite answer, so it neither evicts the customer nor erases the
// store. (A caller's own cancellation is handled before: see abandoned.)
func transient(err error) bool {
	if apiErr, ok := errors.AsType[*kelviq.Error](err); ok {
		// A 408 is a timeout (the kelviq client retries it as one), not an
		// answer about the customer: as definite, it would evict the
		// customer and erase the shared store's record of it.
		return errors.Is(apiErr, kelviq.ErrRateLimited) || errors.Is(apiErr, kelviq.ErrServerError) ||
			apiErr.StatusCode == http.StatusRequestTimeout
	}
	switch {
	case errors.Is(err, kelviq.ErrMissingCredential),
		errors.Is(err, kelviq.ErrUnknownOperation),
		errors.Is(err, kelviq.ErrNoSandboxServer),
		errors.Is(err, kelviq.ErrInvalidConfig):
		return false // nothing was sent: no outage, a mistake to report as is
	}
	return true
}
