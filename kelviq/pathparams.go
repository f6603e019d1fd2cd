package kelviq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/kelviq/kelviq-go/api"
)

// ErrInvalidParameter is wrapped by the error of a call with a parameter
// the client refuses to send: a path parameter that would make the request
// another operation's, "." or ".." (URL resolution removes such a segment,
// so DELETE /catalog/plans/{identifier}/features/{feature_id}/ with
// feature_id ".." would delete the plan), one holding such a segment
// between '/', '\' or ';' ("a/..", which a server decoding %2F would
// resolve), one with a control character, or an empty one (see
// checkPathParam); a page_size above MaxPageSize or below 1; or a nil context. The error names the operation and the parameter.
// Nothing was sent.
var ErrInvalidParameter = errors.New("kelviq: invalid parameter")

// guardedClient is the generated client with every method checking its
// string path parameters first and marking the request's context with the
// operation it is built for (pathparams.gen.go, written by
// internal/cmd/genoperations from the generated ClientInterface). The
// router cannot do the parameter check: once the builder has resolved the
// path, a call of deleteCatalogPlanFeature with ".." is exactly a call of
// deleteCatalogPlan. With the mark, it refuses a request that a request
// editor (run after the builder) moved to another operation, which would
// otherwise go out with that operation's credential.
type guardedClient struct {
	api.ClientInterface
}

// builtForKey is the context key of the call a request is built for.
type builtForKey struct{}

// markedCtx is the context of one call of a generated method: it answers
// builtForKey with itself, so that it both names the operation (op) and
// tells this call from another made with a context derived from this
// one's request (a middleware calling the client with req.Context()): a
// per-call option belongs to the call whose markedCtx it was set under
// (callOptionsOf, idempotent). One allocation, as context.WithValue was.
type markedCtx struct {
	context.Context
	op string
}

func (c *markedCtx) Value(key any) any {
	if key == (builtForKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// builtFor returns ctx marked with the operationId op; the router reads it
// back with builtForOf. A nil ctx is an error naming the call: net/http
// would panic on it.
func builtFor(ctx context.Context, op string) (context.Context, error) {
	if ctx == nil {
		return nil, fmt.Errorf("%w: %s: the context is nil (pass context.Background() or the request's)", ErrInvalidParameter, op)
	}
	return &markedCtx{Context: ctx, op: op}, nil
}

// callOf returns the mark of the call ctx belongs to; nil for a request
// built without the mark (a test's request).
func callOf(ctx context.Context) *markedCtx {
	m, _ := ctx.Value(builtForKey{}).(*markedCtx)
	return m
}

// builtForOf returns the operationId the request was built for, or "" for
// a request built without the mark (a test's request, an iterator's is
// marked).
func builtForOf(ctx context.Context) string {
	if m := callOf(ctx); m != nil {
		return m.op
	}
	return ""
}

// checkPathParam fails for a value that does not stay one segment of its
// operation's path, on the client or on a server on the way:
//
//   - "." and "..": URL resolution removes such a segment, in the client;
//   - a value with a "." or ".." piece between '/', '\' or ';' ("../x",
//     "a/..", "..\x", "..;x"), or made of those separators only ("/"):
//     the generated builder escapes '/' as %2F, but a server or proxy that
//     decodes %2F before it normalizes the path (nginx does), or takes '\'
//     for '/' (some do), or ";..." for path parameters (Java servers),
//     would resolve the dot segment or merge the slashes, and route the
//     request to another resource;
//   - a control character (NUL, a newline): no ID has one, and servers
//     differ on them (a NUL ends a C string);
//   - the empty value.
//
// Every other value is sent as one escaped segment of the operation's path
// (the builder escapes '/', '?', '#', '%', '\' and non-ASCII in it).
func checkPathParam(op, name, value string) error {
	switch value {
	case "":
		return fmt.Errorf("%w: %s: path parameter %s is empty", ErrInvalidParameter, op, name)
	case ".", "..":
		return fmt.Errorf("%w: %s: path parameter %s is %q, which the URL would resolve away (the request would reach another operation)", ErrInvalidParameter, op, name, value)
	}
	if strings.IndexFunc(value, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: %s: path parameter %s contains a control character", ErrInvalidParameter, op, name)
	}
	if hasDotPiece(value) {
		return fmt.Errorf("%w: %s: path parameter %s is %q, which holds a dot segment or only slashes: a server that decodes %%2F, or takes '\\' for '/', would resolve it to another path", ErrInvalidParameter, op, name, clean(value, 64))
	}
	return nil
}

// hasDotPiece reports whether s, split at '/', '\' and ';', has a piece
// that is "." or "..", or has no piece that is not empty ("/", `\\`:
// a server merging slashes, as nginx does by default, would drop the
// segment). It allocates nothing.
func hasDotPiece(s string) bool {
	start, filled := 0, false
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '/' && s[i] != '\\' && s[i] != ';' {
			continue
		}
		piece := s[start:i]
		if piece == "." || piece == ".." {
			return true
		}
		filled = filled || piece != ""
		start = i + 1
	}
	return !filled
}

// named returns the error of a generated method, err, naming the
// operation when it does not already: an error of building the request (a
// body that does not marshal, such as a NaN; a request editor's error) is
// otherwise a bare "json: unsupported value: NaN". Errors of the client's
// own checks and of the call (the router's, an *Error, a transport error)
// pass unchanged: they name it already. errors.Is and errors.As reach err.
func named(op string, err error) error {
	if err == nil || ours(err) {
		return err
	}
	return fmt.Errorf("kelviq: %s: the request could not be built: %w", op, err)
}

// ours reports whether err comes from the client's checks or its call.
func ours(err error) bool {
	var (
		apiErr  *Error
		callErr *callError
		decErr  *decodeError
	)
	if errors.As(err, &apiErr) || errors.As(err, &callErr) || errors.As(err, &decErr) {
		return true
	}
	for _, s := range []error{ErrInvalidParameter, ErrUnknownOperation, ErrMissingCredential, ErrNoSandboxServer, ErrUnexpectedResponse, ErrResponseTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// withoutNil returns editors without its nil elements (a careless caller's
// conditional editor), which the generated client would call and panic
// on; editors itself, not copied, when none is nil.
func withoutNil(editors []api.RequestEditorFn) []api.RequestEditorFn {
	for i, e := range editors {
		if e == nil {
			out := slices.Clone(editors[:i])
			for _, e := range editors[i+1:] {
				if e != nil {
					out = append(out, e)
				}
			}
			return out
		}
	}
	return editors
}
