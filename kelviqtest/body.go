package kelviqtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Request bodies are held in memory whole (validation needs them), so
// their memory is bounded twice: each by the body limit (WithMaxBodyBytes,
// 1 MiB), and all together by a budget. The first freeBody bytes of a body
// are free; every bodyUnit beyond takes a unit of the budget, released when
// the request has been answered. A request that finds the budget spent
// waits for it up to budgetWait (Handler.budgetWait), then is answered 503. So slow or stalled
// uploads (until the server's read timeout cuts them) cannot make the fake
// hold more than about bodyBudget of bodies (or one body of the limit,
// when the limit is larger).
//
// A request takes its units in one step, and waits holding none: a body of
// declared length all it needs up front, a chunked body (length unknown)
// nothing while it fits in freeBody, then the units of the whole limit.
// Requests that each held part of what they need while waiting for the
// rest could fill the budget and wait for one another until all of them
// were answered 503.
const (
	freeBody   = 64 << 10
	bodyUnit   = 64 << 10
	bodyBudget = 16 << 20
	budgetWait = 10 * time.Second
)

// budgetUnits is how many units of the budget a body of n bytes takes.
func budgetUnits(n int64) int64 {
	return (max(n-freeBody, 0) + bodyUnit - 1) / bodyUnit
}

// errBudget is returned when the body budget stayed spent for budgetWait.
var errBudget = errors.New("the fake is busy reading other request bodies")

// readBody reads the request body, at most h.maxBody bytes. A body
// declared or found larger is answered 413, without reading the rest:
// net/http then closes the connection. It returns why it answered, ""
// when it did not; release gives back the body's budget and must be called
// once the request has been answered.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, release func(), problem string) {
	defer r.Body.Close()
	held := int64(0)
	release = func() {
		if held > 0 {
			h.budget.Release(held)
		}
	}
	tooLarge := func() string {
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusRequestEntityTooLarge, nil, map[string]any{"detail": "Request body too large: the limit is " + strconv.FormatInt(h.maxBody, 10) + " bytes."})
		return fmt.Sprintf("the request body is larger than %d bytes", h.maxBody)
	}
	if r.ContentLength > h.maxBody {
		return nil, release, tooLarge()
	}
	limit := h.maxBody + 1 // one more byte tells a body over the limit
	// grow makes room for at least n bytes, taking budget for what is
	// beyond freeBody: all the body can need, in one step (see above).
	grow := func(buf []byte, n int64) ([]byte, error) {
		if budgetUnits(n) > held {
			need := budgetUnits(n)
			if r.ContentLength < 0 {
				need = budgetUnits(limit)
			}
			ctx, cancel := context.WithTimeout(r.Context(), h.budgetWait)
			err := h.budget.Acquire(ctx, need-held)
			cancel()
			switch {
			case r.Context().Err() != nil:
				return buf, r.Context().Err()
			case err != nil:
				return buf, errBudget
			}
			held = need
		}
		out := make([]byte, len(buf), n)
		copy(out, buf)
		return out, nil
	}

	first := int64(512)
	if r.ContentLength >= 0 {
		first = r.ContentLength + 1 // +1 to read the EOF without growing
	}
	buf, err := grow(nil, min(first, limit))
	for err == nil {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= limit {
				return nil, release, tooLarge()
			}
			if buf, err = grow(buf, min(int64(cap(buf))*2, limit)); err != nil {
				break
			}
		}
		var n int
		n, err = r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
	}
	switch {
	case errors.Is(err, io.EOF):
		if int64(len(buf)) > h.maxBody {
			return nil, release, tooLarge()
		}
		return buf, release, ""
	case errors.Is(err, errBudget):
		writeJSON(w, http.StatusServiceUnavailable, http.Header{"Retry-After": {"1"}}, map[string]any{"detail": "The fake is busy reading other request bodies; retry later."})
		return nil, release, errBudget.Error()
	}
	problem = "reading the request body: " + err.Error()
	writeJSON(w, http.StatusBadRequest, nil, map[string]any{"detail": problem})
	return nil, release, problem
}
