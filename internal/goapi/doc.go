// Package goapi measures what a spec change does to the Go API of this
// module: it regenerates the client for a spec into a temporary module the
// way `make generate` does (the committed oapi-codegen config, overlay and
// templates, and our operation-table generator), type-checks packages api
// and kelviq there, and compares their exported API with another side's
// using golang.org/x/exp/apidiff.
//
// On top of apidiff one rule of this module's versioning policy applies:
// the generated ClientInterface and ClientWithResponsesInterface are not for
// implementing outside this module (their docs say so), so a method added
// to them is compatible, where plain apidiff calls it incompatible.
//
// Files: module.go (the source tree and the temporary module), regen.go
// (running the generators), load.go (type-checking), diff.go (apidiff and
// the policy).
package goapi
