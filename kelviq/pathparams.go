package kelviq

import (
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

// guardedClient is the generated client with every method that takes a
// string path parameter checking it first (pathparams.gen.go, written by
// internal/cmd/genoperations from the generated ClientInterface). The
// router cannot do this check: once the builder has resolved the path, a
// call of deleteCatalogPlanFeature with ".." is exactly a call of
// deleteCatalogPlan.
type guardedClient struct {
	api.ClientInterface
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
