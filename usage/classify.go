package usage

import (
	"errors"
	"net"
	"net/http"

	"github.com/kelviq/kelviq-go/kelviq"
)

// outcome is what a failed ReportUsage call means for its reports.
type outcome int

const (
	// delivered: kelviq answered 2xx (the body may still have failed the
	// client's checks: the report was taken all the same).
	delivered outcome = iota
	// notApplied: kelviq did not apply the request (408, 429, a
	// connection never made, nothing sent): send it again.
	notApplied
	// ambiguous: the request may have been applied (5xx, a timeout or a
	// lost connection after the body was sent).
	ambiguous
	// refused: a 4xx other than 408 and 429: sending it again will not help.
	refused
)

// classify judges the error of a ReportUsage call; nil is delivered.
func classify(err error) outcome {
	if err == nil {
		return delivered
	}
	var apiErr *kelviq.Error
	if errors.As(err, &apiErr) {
		switch code := apiErr.StatusCode; {
		case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
			return notApplied
		case code >= 500:
			return ambiguous
		case code >= 200 && code <= 299:
			return delivered
		default:
			return refused
		}
	}
	switch {
	case errors.Is(err, kelviq.ErrUnexpectedResponse), errors.Is(err, kelviq.ErrResponseTooLarge):
		// The client checks only a success response this way.
		return delivered
	case errors.Is(err, kelviq.ErrMissingCredential), errors.Is(err, kelviq.ErrUnknownOperation),
		errors.Is(err, kelviq.ErrNoSandboxServer):
		// Refused by the client's routing before anything was sent.
		return notApplied
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return notApplied // no connection, nothing sent
	}
	return ambiguous
}
