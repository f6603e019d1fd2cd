// Package kelviqgo holds the vendored kelviq OpenAPI spec that the client in
// package api is generated from, and the go:generate lines that generate it
// (gen.go).
//
// Most users import package kelviq instead; this package exists so that the
// fake server (kelviqtest) and the drift checker can read the exact spec the
// client was generated from (go:embed cannot reach a parent folder).
package kelviqgo

import _ "embed"

// OpenAPISpec is openapi.json at the module root, byte for byte. Its upstream
// source is recorded in OPENAPI_VERSION.
//
//go:embed openapi.json
var OpenAPISpec []byte

// OpenAPIVersion is the OPENAPI_VERSION file: the repository, path, commit,
// date and sha256 of the vendored spec.
//
//go:embed OPENAPI_VERSION
var OpenAPIVersion string
