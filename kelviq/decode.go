package kelviq

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/kelviq/kelviq-go/api"
)

// decodeError is the error of a call whose success response the generated
// parser could not read: the body is not what the spec declares for the
// status (empty, not JSON, or JSON of another shape). It wraps
// ErrUnexpectedResponse and the parser's error.
type decodeError struct {
	op     string
	status int
	ct     string
	err    error
	red    *redactor
}

func (e *decodeError) Error() string {
	// The parser's text may quote the body (a time it could not parse):
	// redacted like everything else a server says.
	return "kelviq: unexpected response: " + e.op + ": status " + strconv.Itoa(e.status) +
		" with Content-Type " + strconv.Quote(e.red.text(e.ct, maxMessage)) +
		": the body does not decode: " + e.red.text(e.err.Error(), maxMessage)
}

func (e *decodeError) Unwrap() []error { return []error{ErrUnexpectedResponse, e.err} }

// undecodable turns an error of a generated ParseXxxResult into the call's
// error. A read error of the body (a reset, the limit) is already the
// call's own error and passes unchanged.
func (c *Client) undecodable(op string, rsp *http.Response, err error) error {
	var ce *callError
	if errors.As(err, &ce) || errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrUnexpectedResponse) {
		return err
	}
	return &decodeError{op: op, status: rsp.StatusCode, ct: rsp.Header.Get("Content-Type"), err: c.red.hide(err), red: c.red}
}

// nullBody fails a success whose declared JSON body is the literal null
// (whitespace around it or not). json.Unmarshal accepts null into any
// type and leaves it zero, so the generated parser would set JSONxxx to an
// empty value, with no error: a list with no results, a customer with no
// ID. No success body of the spec is nullable. Called by every
// XxxWithResponse of calls.gen.go after the parser.
func (c *Client) nullBody(opID string, rsp *http.Response, body []byte) error {
	if !bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return nil
	}
	for i := range api.Operations {
		op := &api.Operations[i]
		if op.ID == opID && declaresJSON(op, rsp.StatusCode) {
			return fmt.Errorf("%w: %s: status %d with Content-Type %q: the body is null, the spec declares a JSON value", ErrUnexpectedResponse, opID, rsp.StatusCode, c.red.text(rsp.Header.Get("Content-Type"), maxMessage))
		}
	}
	return nil
}

// undeclared is the error of a call answered with a 2xx status that the
// operation does not declare (a 200 for a create that declares 201, a 204
// for a read). The generated parser would leave every JSONxxx field nil
// with no error; the caller would read an absent value as an empty one.
// The server did answer with a success: a call that changes something may
// have taken effect, which the error says.
func (c *Client) undeclared(op string, rsp *http.Response, declared string) error {
	_ = rsp.Body.Close()
	effect := ""
	if m := rsp.Request; m != nil && m.Method != http.MethodGet && m.Method != http.MethodHead {
		effect = " (the server answered with a success: the call may have taken effect)"
	}
	return fmt.Errorf("%w: %s: status %d with Content-Type %q, the spec declares %s%s", ErrUnexpectedResponse, op, rsp.StatusCode, c.red.text(rsp.Header.Get("Content-Type"), maxMessage), declared, effect)
}

// parseResult runs a generated ParseXxxResult on a declared success and
// judges what it did: a body it cannot read becomes an error naming the
// operation (undecodable), so does a JSON body that is null (nullBody).
// A body that fails only because an integer field holds an integral
// number in another spelling (10.0, 1e1, -0: JSON has one number type, and
// kelviq's validator accepts them) is decoded once more with those numbers
// rewritten for their integer fields (integral.go); only on that error,
// so a body that decodes costs what it cost.
func parseResult[R any](c *Client, op string, rsp *http.Response, parse func(*http.Response) (*R, error)) (*R, error) {
	held := holdBody(rsp)
	res, err := parse(rsp)
	if err != nil {
		if res, err = reparseIntegral(rsp, held, err, parse); err != nil {
			return nil, c.undecodable(op, rsp, err)
		}
	}
	if err := c.nullBody(op, rsp, held.held); err != nil {
		return nil, err
	}
	return res, nil
}

// holdBody makes rsp's body a *callBody, which keeps the bytes the parser
// reads (ReadBody), for reparseIntegral and nullBody. The responseChecker
// already wraps a body with a limit or a deadline; any other one is
// wrapped here.
func holdBody(rsp *http.Response) *callBody {
	b, ok := rsp.Body.(*callBody)
	if !ok {
		b = &callBody{rc: rsp.Body}
		rsp.Body = b
	}
	return b
}
