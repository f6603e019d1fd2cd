package kelviqotel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/kelviq/kelviq-go/kelviq"
)

// statusOf is the HTTP status of an outcome: the response's, or the one an
// *kelviq.Error carries; 0 when no response came.
func statusOf(resp *http.Response, err error) int {
	if resp != nil {
		return resp.StatusCode
	}
	var e *kelviq.Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// errorType is the error.type of an outcome: the status for 4xx and 5xx,
// else a short class of the error, "" for a success. It never holds an
// error's text, which may quote what a server sent.
func errorType(status int, err error) string {
	if status >= 400 {
		return strconv.Itoa(status)
	}
	if err == nil {
		return ""
	}
	for _, c := range errorClasses {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_closed"
	case errors.As(err, &netErr):
		return "network_error"
	}
	return "_OTHER"
}

// errorClasses name kelviq's sentinel errors and the context's, first match
// wins.
var errorClasses = []struct {
	err  error
	name string
}{
	{kelviq.ErrMissingCredential, "missing_credential"},
	{kelviq.ErrNoSandboxServer, "no_sandbox_server"},
	{kelviq.ErrUnknownOperation, "unknown_operation"},
	{kelviq.ErrInvalidParameter, "invalid_parameter"},
	{kelviq.ErrResponseTooLarge, "response_too_large"},
	{kelviq.ErrUnexpectedResponse, "unexpected_response"},
	{context.DeadlineExceeded, "timeout"},
	{context.Canceled, "canceled"},
}

// statusClass indexes the request-duration attribute sets.
func statusClass(status int) int {
	switch {
	case status >= 200 && status < 300:
		return 0
	case status >= 300 && status < 400:
		return 1
	case status >= 400 && status < 500:
		return 2
	case status >= 500 && status < 600:
		return 3
	}
	return 4 // no response, or a status out of range
}

var statusClassNames = [...]string{"2xx", "3xx", "4xx", "5xx", "error"}
