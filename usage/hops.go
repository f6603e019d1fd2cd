package usage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/kelviq/kelviq-go/api"
)

// hops counts, for one ReportUsage call, the requests written on the wire
// and the request bodies read, to tell a redirect that turned the POST
// into a GET (a 301, 302 or 303: net/http follows with a bodiless GET)
// from one that sent the POST again (307, 308) when the answer gives no
// other sign: a 2xx whose body failed the client's checks comes back as an
// error, without the response and its request.
//
// A POST written on the wire has read its body; a GET has none. So more
// requests written than bodies read means a GET went out, and every hop
// after it was a GET too: the POST was answered with a redirect, never
// applied. An uncounted hop (a transport that does not report writes, a
// body read for a write that then failed) only ever makes the counts look
// like plain POSTs, which is what they were taken for before.
type hops struct {
	written atomic.Int32 // requests written whole (httptrace WroteRequest)
	bodies  atomic.Int32 // request bodies read from
}

// attach returns ctx with the trace that counts written requests, and the
// request editor that counts bodies.
func (h *hops) attach(ctx context.Context) (context.Context, api.RequestEditorFn) {
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				h.written.Add(1)
			}
		},
	})
	edit := func(_ context.Context, req *http.Request) error {
		if req.Body == nil || req.Body == http.NoBody || req.GetBody == nil {
			return nil
		}
		get := req.GetBody
		req.Body = &countedBody{ReadCloser: req.Body, h: h}
		req.GetBody = func() (io.ReadCloser, error) {
			rc, err := get()
			if err != nil {
				return nil, err
			}
			return &countedBody{ReadCloser: rc, h: h}, nil
		}
		return nil
	}
	return ctx, edit
}

// becameGet reports whether a request without a body went out: the POST
// was redirected into a GET.
func (h *hops) becameGet() bool { return h.written.Load() > h.bodies.Load() }

// redirected returns, for a call whose 2xx counts as delivered (resp, or
// err when its body failed the client's checks), an error wrapping
// errRedirected when that 2xx answers the GET of a redirect: the POST was
// not applied. Else nil.
func (h *hops) redirected(resp *http.Response, err error) error {
	if resp != nil && resp.Request != nil && resp.Request.Method != http.MethodPost {
		via := "a redirect"
		if resp.Request.Response != nil {
			via = resp.Request.Response.Status
		}
		return fmt.Errorf("%w: kelviq answered the POST with %s, which net/http followed with a %s (answered %s): the report was not applied",
			errRedirected, via, resp.Request.Method, resp.Status)
	}
	if !h.becameGet() {
		return nil
	}
	answer := "an unreadable 2xx"
	switch {
	case resp != nil:
		answer = resp.Status
	case err != nil:
		answer = err.Error()
	}
	return fmt.Errorf("%w: kelviq answered the POST with a redirect, which net/http followed with a GET (answered %s): the report was not applied",
		errRedirected, answer)
}

// countedBody counts itself in h.bodies at its first read.
type countedBody struct {
	io.ReadCloser
	h    *hops
	read bool
}

func (b *countedBody) Read(p []byte) (int, error) {
	if !b.read {
		b.read = true
		b.h.bodies.Add(1)
	}
	return b.ReadCloser.Read(p)
}
