package usage

import (
	"errors"
	"fmt"
)

// DeadLetter reasons that are not an HTTP status (a refused request's
// Reason is its status, as "401").
const (
	// ReasonUncertain: a DELTA that may or may not have reached kelviq,
	// dead-lettered under AtMostOnce (its request failed ambiguously, or
	// it was in flight when its Reporter stopped).
	ReasonUncertain = "uncertain"
	// ReasonRedirect: kelviq answered a redirect that would have turned
	// the POST into a GET.
	ReasonRedirect = "redirect"
	// ReasonUnreadable: a stored record that could not be decoded.
	ReasonUnreadable = "unreadable"
)

// wrapUnavailable wraps a failure of the storage what names.
func wrapUnavailable(what string, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}
