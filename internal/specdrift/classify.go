package specdrift

import (
	"strings"
)

// Level says how a change affects code written against the generated Go
// client.
type Level string

// Levels of a change.
const (
	// Breaking changes make code that compiled and worked against the client
	// generated from the vendored spec fail to compile, or send its requests
	// somewhere else or with other credentials.
	Breaking Level = "breaking"
	// NonBreaking changes alter the API without breaking such code.
	NonBreaking Level = "non-breaking"
	// DocsOnly changes touch descriptions, summaries, examples, titles, tags
	// or x-mint extensions only. They are not drift unless asked for.
	DocsOnly Level = "docs-only"
)

// skippedRule reports oasdiff rules whose subject this package checks itself
// (security, operationIds, whole operations), so their findings are dropped.
func skippedRule(id string) bool {
	for _, p := range []string{
		"api-security-", "api-global-security-", "api-operation-id-",
		"api-path-removed", "api-removed", "endpoint-", "api-schema-removed", "webhook-",
		"api-tag-", // tags are documentation; compared with the other docs elements
	} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// ruleLevel classifies one oasdiff rule id for a user of the client generated
// by oapi-codegen with this project's configuration (optional fields are
// pointers, nullable fields are nullable.Nullable, enums are named types with
// prefixed constants, one method per operation named after its operationId,
// typed JSON<status> response fields). Where oasdiff's own levels do not fit
// such a client this decides, see the README:
//
//   - removing anything the generated code has a name for breaks compilation,
//     even when oasdiff calls it a warning or info (an optional parameter,
//     request or response property, an enum value, a response, a media type);
//   - required↔optional and nullable flips change a field's Go type (T, *T,
//     nullable.Nullable[T]) in either direction, and so do type and format
//     changes, "compatible" ones included;
//   - validation constraints (min/max, lengths, patterns, item counts …),
//     defaults, deprecations and sunsets are not checked by the client and
//     change no Go type: non-breaking, even when oasdiff calls them errors;
//   - a response enum value added, a oneOf/anyOf variant added or an optional
//     field added only adds names: non-breaking.
//
// Unknown ids are non-breaking (they are still reported).
func ruleLevel(id string) Level {
	has := func(s string) bool { return strings.Contains(id, s) }
	pre := func(s string) bool { return strings.HasPrefix(id, s) }
	responseHeader := pre("response-header-") || pre("required-response-header-") || pre("optional-response-header-")

	switch {
	// Lifecycle policy: deprecation, sunset and stability bookkeeping.
	case has("sunset") && !has("-removed-before-sunset"), has("deprecat") && !has("-removed-with-deprecation"),
		has("stability"), has("reactivated"):
		return NonBreaking

	// Removals of things the generated code names.
	case pre("request-parameter-removed"), pre("request-property-removed"),
		pre("response-required-property-removed"), pre("response-optional-property-removed"),
		pre("response-optional-write-only-property-removed"):
		return Breaking
	case id == "request-body-removed", id == "request-body-media-type-removed", id == "response-media-type-removed",
		id == "response-success-status-removed":
		return Breaking
	case has("media-type-name-"): // the JSON<status>/body method names follow the media type
		return Breaking

	// New required inputs: a new struct field that must be set, or a new
	// positional argument (path parameter, request body).
	case pre("new-required-request-"), id == "new-request-path-parameter",
		id == "request-body-added-required", id == "request-body-added-optional":
		return Breaking

	// Required ↔ optional flips the Go type between T and *T.
	case pre("request-parameter-became-required"), pre("request-parameter-became-optional"),
		pre("request-property-became-required"), pre("request-property-became-optional"),
		pre("response-property-became-required"), pre("response-property-became-optional"),
		pre("request-header-property-became-required"):
		return Breaking

	// Type and format changes, nullability, enum-ness.
	case (has("-type-changed") || has("-type-generalized") || has("-type-specialized") ||
		has("-type-compatible") || has("list-of-types")) && !responseHeader:
		return Breaking
	case (has("-became-nullable") || has("-became-not-nullable")) && !responseHeader:
		return Breaking
	case has("enum-value-removed") && !has("x-extensible") && !has("mediatype"):
		return Breaking
	case (has("-became-enum") || has("-became-not-enum")) && !has("mediatype"):
		return Breaking
	case has("schema-became-false") && !responseHeader, has("wrapped-in-one-of") && !has("original-preserved"):
		return Breaking

	// Composition: a removed variant or allOf member removes a method or fields.
	case has("-one-of-removed"), has("-any-of-removed"), has("-all-of-removed") && !has("annotation-only"):
		return Breaking
	case has("discriminator-removed"), has("discriminator-property-name-changed"):
		return Breaking

	// Body schemas appearing or disappearing change method signatures and
	// response field types.
	case id == "request-body-media-type-schema-added", id == "request-body-media-type-schema-removed",
		has("media-type-item-schema-added"), has("media-type-item-schema-removed"),
		id == "response-body-media-type-schema-removed":
		return Breaking
	}
	return NonBreaking
}
