package kelviqtest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// faultState is a Fault and how often it has applied.
type faultState struct {
	Fault
	used int
}

// faultFor returns the fault that applies to one more request of op, if
// any, and counts it. An operation's own fault wins over AnyOperation's;
// once it is used up, AnyOperation's applies.
func (h *Handler) faultFor(op *operation) (Fault, bool) {
	h.faultMu.Lock()
	defer h.faultMu.Unlock()
	for _, f := range []*faultState{h.faults[op], h.anyFault} {
		if f == nil || (f.Times > 0 && f.used >= f.Times) {
			continue
		}
		f.used++
		return f.Fault, true
	}
	return Fault{}, false
}

// SetFault injects a fault into the operation with the given operationId
// (as the spec spells it, e.g. "listCustomers" or api.OpListCustomers), or
// into every operation with AnyOperation, while the fake runs. It replaces
// the operation's fault, if any, and starts its Times count afresh. It
// fails, changing nothing, for an unknown operation or an invalid fault.
func (h *Handler) SetFault(operationID string, f Fault) error {
	if err := f.validate(operationID); err != nil {
		return err
	}
	var op *operation
	if operationID != AnyOperation {
		var err error
		if op, err = h.spec.operation(operationID, "SetFault"); err != nil {
			return err
		}
	}
	h.faultMu.Lock()
	defer h.faultMu.Unlock()
	if op == nil {
		h.anyFault = &faultState{Fault: f}
	} else {
		h.faults[op] = &faultState{Fault: f}
	}
	return nil
}

// ClearFaults removes every fault, those given with WithFault included.
func (h *Handler) ClearFaults() {
	h.faultMu.Lock()
	defer h.faultMu.Unlock()
	clear(h.faults)
	h.anyFault = nil
}

// applyFault carries out a fault: the delay, then a dropped connection or
// the fault's status. It reports whether the request has been dealt with,
// and returns the connection to drop, hijacked and not yet closed: the
// caller closes it once the request is recorded, so that a test that sees
// the transport error also finds the request in Requests.
func (h *Handler) applyFault(w http.ResponseWriter, r *http.Request, op *operation, f Fault, rec *Request) (done bool, drop net.Conn) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rec.Problem = "the client gave up during an injected delay"
			if cause := context.Cause(r.Context()); !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
				rec.Problem = "an injected delay was cut short: " + cause.Error()
			}
			// Nothing may go out: for a handler that wrote nothing,
			// net/http sends a 200 with no body, which a client still
			// there (the server stopping, say) would take for an answer.
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				return true, conn
			}
			return true, nil
		}
	}
	if f.DropConnection {
		rec.Problem = "the connection was dropped by an injected fault"
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			// Part of a status line goes out before the close. A
			// connection closed before any byte of the response is what an
			// idle keep-alive connection closed by the server looks like,
			// so clients (Go's Transport among them) resend an idempotent
			// request on a new connection without telling the caller: the
			// fault would be used up and never seen. Cut mid-response, it
			// is a transport error every client reports.
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(conn, droppedResponse)
			return true, conn
		}
		// Not hijackable (HTTP/2, a recorder): net/http aborts the
		// response and resets the stream on this panic.
		panic(http.ErrAbortHandler)
	}
	if f.Status == 0 && f.RetryAfter == 0 {
		return false, nil
	}
	status := f.Status
	if status == 0 {
		status = op.success.status
	}
	hdr := f.Header.Clone()
	if f.RetryAfter > 0 {
		if hdr == nil {
			hdr = http.Header{}
		}
		// Rounded up without adding first: RetryAfter+999ms overflowed
		// near the longest duration, to a negative Retry-After.
		secs := int64(f.RetryAfter / time.Second)
		if f.RetryAfter%time.Second != 0 {
			secs++
		}
		hdr.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if f.Status == 0 {
		// A Retry-After alone goes on the normal answer.
		for k, v := range hdr {
			w.Header()[k] = v
		}
		return false, nil
	}
	h.writeResponse(w, r, op, Response{Status: status, Header: hdr, Body: f.Body})
	return true, nil
}

// droppedResponse is what a dropped connection sends before it closes:
// the start of a status line, never a whole one.
const droppedResponse = "HTTP/1.1 "
