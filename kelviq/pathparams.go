package kelviq

import (
	"context"
	"errors"
	"fmt"

	"github.com/kelviq/kelviq-go/api"
)

// ErrInvalidParameter is wrapped by the error of a call with a parameter
// the client refuses to send: a path parameter that would make the request
// another operation's, "." or ".." (URL resolution removes such a segment,
// so DELETE /catalog/plans/{identifier}/features/{feature_id}/ with
// feature_id ".." would delete the plan), or an empty one; or a page_size
// above MaxPageSize. The error names the operation and the parameter.
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

// builtForKey is the context key of the operationId a request is built for.
type builtForKey struct{}

// builtFor returns ctx marked with the operationId op; the router reads it
// back with builtForOf.
func builtFor(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, builtForKey{}, op)
}

// builtForOf returns the operationId the request was built for, or "" for
// a request built without the mark (a test's request, an iterator's is
// marked).
func builtForOf(ctx context.Context) string {
	op, _ := ctx.Value(builtForKey{}).(string)
	return op
}

// checkPathParam fails for a value that does not stay one segment of its
// operation's path. Every other value is safe: the generated builder
// escapes '/', '?', '#' and '%' in it.
func checkPathParam(op, name, value string) error {
	switch value {
	case "":
		return fmt.Errorf("%w: %s: path parameter %s is empty", ErrInvalidParameter, op, name)
	case ".", "..":
		return fmt.Errorf("%w: %s: path parameter %s is %q, which the URL would resolve away (the request would reach another operation)", ErrInvalidParameter, op, name, value)
	}
	return nil
}

var _ api.ClientInterface = guardedClient{}
