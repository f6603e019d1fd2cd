package kelviqtest

import (
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
// the fault's status. It reports whether the request has been dealt with.
func (h *Handler) applyFault(w http.ResponseWriter, r *http.Request, op *operation, f Fault, rec *Request) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rec.Problem = "the client gave up during an injected delay"
			return true
		}
	}
	if f.DropConnection {
		rec.Problem = "the connection was dropped by an injected fault"
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return true
		}
		// Not hijackable (HTTP/2, a recorder): net/http aborts the
		// response and resets the stream on this panic.
		panic(http.ErrAbortHandler)
	}
	if f.Status == 0 && f.RetryAfter == 0 {
		return false
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
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		hdr.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if f.Status == 0 {
		// A Retry-After alone goes on the normal answer.
		for k, v := range hdr {
			w.Header()[k] = v
		}
		return false
	}
	h.writeResponse(w, r, op, Response{Status: status, Header: hdr, Body: f.Body})
	return true
}
