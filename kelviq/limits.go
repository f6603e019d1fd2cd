package kelviq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/kelviq/kelviq-go/api"
)

// DefaultMaxResponseBytes caps the body of a response the client reads:
// 16 MiB, far above any page of the API (a page of 100 customers is about
// 100 KB). Change it with WithMaxResponseBytes.
const DefaultMaxResponseBytes = 16 << 20

// ErrResponseTooLarge is wrapped by the error of a call whose response body
// is larger than the limit (DefaultMaxResponseBytes, or WithMaxResponseBytes).
// The client stops reading at the limit instead of buffering the rest.
var ErrResponseTooLarge = errors.New("kelviq: response body too large")

// ErrUnexpectedResponse is wrapped by the error of a call whose response is
// a success status but not what the spec declares for it: a 2xx status the
// operation does not declare (a 200 for a create that declares 201); a
// body the spec declares as JSON that is empty, not JSON (an HTML page
// from a proxy or captive portal in the way), or JSON that does not
// decode into the operation's type (an integer field holding 10.5); or a
// list answering without a page. The error names the operation, the
// status and the Content-Type. Because of it, a call
// that returns a nil error has the JSONxxx field of its status set
// whenever the spec declares a JSON body for that status.
var ErrUnexpectedResponse = errors.New("kelviq: unexpected response")

// callBody is a success response's body as the caller reads it. With a
// limit, it fails with ErrResponseTooLarge once more than limit bytes
// arrive, rather than truncating silently. Closing it ends the call's
// timeout (cancel).
type callBody struct {
	rc        io.ReadCloser
	remaining int64
	limit     int64 // 0: none
	cancel    context.CancelFunc
	op        *api.Operation // for the error
	req       *http.Request
	red       *redactor
	err       error
	one       [1]byte
	held      []byte // what ReadBody read
}

// ReadBody reads the whole body, of the announced length contentLength
// (-1: unknown), and keeps it: the generated parser (api's
// readResponseBody) calls it instead of reading through Read, so that
// parseResult can decode the same bytes again without a second copy on
// every call. With a known length it reads into one buffer of that size,
// up to maxPrealloc: the length is what the server announced, not what
// it sends, and a few bytes of headers must not cost 16 MiB.
func (b *callBody) ReadBody(contentLength int64) ([]byte, error) {
	var err error
	if n := contentLength; n > 0 && n < 64<<20 {
		buf := bytes.NewBuffer(make([]byte, 0, min(n, maxPrealloc)+bytes.MinRead))
		_, err = buf.ReadFrom(b)
		b.held = buf.Bytes()
	} else {
		b.held, err = io.ReadAll(b)
	}
	return b.held, err
}

// maxPrealloc bounds the buffer ReadBody makes for an announced length:
// far above a page of the API (about 100 KB), so a real body is read into
// one buffer; a longer one grows as it arrives.
const maxPrealloc = 1 << 20

// heldBody is a body already read: the respelled one reparseIntegral hands
// the parser.
type heldBody struct{ b []byte }

func (h heldBody) Read([]byte) (int, error)       { return 0, io.EOF }
func (h heldBody) Close() error                   { return nil }
func (h heldBody) ReadBody(int64) ([]byte, error) { return h.b, nil }

func (b *callBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.limit == 0 {
		n, err := b.rc.Read(p)
		return n, b.named(err)
	}
	if b.remaining <= 0 {
		// At the limit: the body must end here.
		n, err := b.rc.Read(b.one[:])
		if n > 0 {
			b.err = fmt.Errorf("%w: %s: more than %d bytes (kelviq.WithMaxResponseBytes)", ErrResponseTooLarge, opName(b.op, b.req), b.limit)
			return 0, b.err
		}
		return 0, b.named(err)
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	return n, b.named(err)
}

// named wraps a read error other than io.EOF (a connection reset, the
// call's deadline) with the call's operation.
func (b *callBody) named(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var ce *callError
	if errors.As(err, &ce) || b.req == nil {
		return err // named already, or a body holdBody wrapped: as it comes
	}
	b.err = &callError{op: b.op, req: b.req, err: b.red.hide(err), red: b.red}
	return b.err
}

func (b *callBody) Close() error {
	err := b.rc.Close()
	if b.cancel != nil {
		b.cancel()
	}
	return err
}
