package specdrift

import (
	"strings"
	"testing"

	"github.com/oasdiff/oasdiff/checker"
)

// baseSpec is a small spec in kelviq's shape; the cases below edit it.
const baseSpec = `openapi: 3.0.0
info: {title: t, version: "1"}
servers:
  - url: https://sandboxapi.kelviq.com/api/v1
    description: Sandbox
  - url: https://api.kelviq.com/api/v1
    description: Production
security:
  - bearerAuth: []
paths:
  /things/{id}/:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      operationId: getThing
      summary: Get a thing
      description: Returns a thing.
      parameters:
        - {name: expand, in: query, required: false, schema: {type: string}}
        - {name: pageSize, in: query, required: false, schema: {type: integer}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
        "400":
          description: bad
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
        "401":
          description: unauthorized
  /things/:
    post:
      operationId: createThing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string}
                color: {type: string}
      responses:
        "201": {description: created}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer, description: Server key.}
    partnerKeyAuth: {type: apiKey, in: header, name: X-Kelviq-Partner-Key}
  schemas:
    Thing:
      type: object
      required: [id]
      properties:
        id: {type: string}
        status: {type: string, enum: [ACTIVE, ARCHIVED]}
        note: {type: string, description: a note}
        count: {type: integer}
        url: {type: string}
    Error:
      type: object
      properties:
        message: {type: string}
`

func edit(t *testing.T, spec string, repl ...string) string {
	t.Helper()
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(spec, repl[i]) {
			t.Fatalf("edit: %q not in the spec", repl[i])
		}
		spec = strings.Replace(spec, repl[i], repl[i+1], 1)
	}
	return spec
}

func compareYAML(t *testing.T, base, rev string) *Comparison {
	t.Helper()
	b, err := LoadView([]byte(base), "base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := LoadView([]byte(rev), "rev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compare(b, r, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Each edit yields the expected change and level for a generated Go client;
// when the level is not breaking, nothing else is breaking either.
func TestClassification(t *testing.T) {
	t.Parallel()
	const get, post = "GET /things/{id}/", "POST /things/"
	for _, tc := range []struct {
		name    string
		repl    []string
		reverse bool     // the edited spec is the vendored one
		common  []string // edits applied to both sides first
		op      string
		kind    string
		level   Level
		msg     string
	}{
		{"optional response field removed", []string{"        note: {type: string, description: a note}\n", ""}, false, nil, get, "response-optional-property-removed", Breaking, "note"},
		{"response enum value added", []string{"enum: [ACTIVE, ARCHIVED]", "enum: [ACTIVE, ARCHIVED, PAUSED]"}, false, nil, get, "response-property-enum-value-added", NonBreaking, "PAUSED"},
		{"response enum value removed", []string{"enum: [ACTIVE, ARCHIVED]", "enum: [ACTIVE]"}, false, nil, get, "response-property-enum-value-removed", Breaking, "ARCHIVED"},
		{"query parameter renamed", []string{"name: pageSize", "name: page_size"}, false, nil, get, KindParameterRenamed, Breaking, "`pageSize` to `page_size`"},
		{"parameter made required", []string{"{name: expand, in: query, required: false", "{name: expand, in: query, required: true"}, false, nil, get, "request-parameter-became-required", Breaking, "expand"},
		{"parameter made optional", []string{"{name: expand, in: query, required: false", "{name: expand, in: query, required: true"}, true, nil, get, "request-parameter-became-optional", Breaking, "expand"},
		{"new required parameter", []string{"      responses:\n        \"200\"", "        - {name: must, in: query, required: true, schema: {type: string}}\n      responses:\n        \"200\""}, false, nil, get, "new-required-request-parameter", Breaking, "must"},
		{"new optional parameter", []string{"      responses:\n        \"200\"", "        - {name: may, in: query, required: false, schema: {type: string}}\n      responses:\n        \"200\""}, false, nil, get, "new-optional-request-parameter", NonBreaking, "may"},
		{"parameter removed", []string{"        - {name: expand, in: query, required: false, schema: {type: string}}\n", ""}, false, nil, get, "request-parameter-removed", Breaking, "expand"},
		{"success status changed", []string{`        "200":
          description: ok`, `        "202":
          description: ok`}, false, nil, get, "response-success-status-removed", Breaking, "200"},
		{"error response with body removed", []string{`        "400":
          description: bad
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
`, ""}, false, nil, get, "response-non-success-status-removed", Breaking, "400"},
		{"error response without body removed", []string{`        "401":
          description: unauthorized
`, ""}, false, nil, get, "response-non-success-status-removed", NonBreaking, "401"},
		{"type change", []string{"count: {type: integer}", "count: {type: string}"}, false, nil, get, "response-property-type-changed", Breaking, "count"},
		{"format that keeps the Go type", []string{"url: {type: string}", "url: {type: string, format: uri}"}, false, nil, get, "response-property-type-specialized", NonBreaking, "Go type stays the same"},
		{"format that changes the Go type", []string{"url: {type: string}", "url: {type: string, format: date-time}"}, false, nil, get, "response-property-type-specialized", Breaking, "date-time"},
		{"response field made nullable", []string{"count: {type: integer}", "count: {type: integer, nullable: true}"}, false, nil, get, "response-property-became-nullable", Breaking, "count"},
		{"new required request field", []string{"                color: {type: string}\n", "                color: {type: string}\n                size: {type: integer}\n", "required: [name]", "required: [name, size]"}, false, nil, post, "new-required-request-property", Breaking, "size"},
		{"optional request field removed", []string{"                color: {type: string}\n", ""}, false, nil, post, "request-property-removed", Breaking, "color"},
		{"request field made required", []string{"required: [name]", "required: [name, color]"}, false, nil, post, "request-property-became-required", Breaking, "color"},
		{"operationId changed", []string{"operationId: getThing", "operationId: retrieveThing"}, false, nil, get, KindOperationIDChanged, Breaking, "`getThing` to `retrieveThing`"},
		{"description changed", []string{"description: Returns a thing.", "description: Returns one thing."}, false, nil, get, KindDocsChanged, DocsOnly, "descriptions"},
		{"example added", []string{"note: {type: string, description: a note}", "note: {type: string, description: a note, example: hello}"}, false, nil, get, KindDocsChanged, DocsOnly, "examples"},
		{"x-mint added", []string{"      summary: Get a thing\n", "      summary: Get a thing\n      x-mint: {content: '<Info>hi</Info>'}\n"}, false, nil, get, KindDocsChanged, DocsOnly, "x-mint extension"},
		{"summary and tags changed", []string{"      summary: Get a thing\n", "      summary: Fetch a thing\n      tags: [Things]\n"}, false, nil, get, KindDocsChanged, DocsOnly, "summary, tags"},
		{"production host changed (edge path fix)", []string{"url: https://api.kelviq.com/api/v1", "url: https://api.kelviq.com/v2"}, false, nil, get, KindServerURLChanged, Breaking, "production server changed from `https://api.kelviq.com/api/v1` to `https://api.kelviq.com/v2`"},
		{"sandbox added", []string{"  - url: https://sandboxapi.kelviq.com/api/v1\n    description: Sandbox\n", ""}, true, nil, get, KindServerAdded, NonBreaking, "sandbox server added"},
		{"sandbox removed", []string{"  - url: https://sandboxapi.kelviq.com/api/v1\n    description: Sandbox\n", ""}, false, nil, get, KindServerRemoved, NonBreaking, "sandbox server"},
		{"production removed", []string{"  - url: https://api.kelviq.com/api/v1\n    description: Production\n", ""}, false, nil, get, KindServerProductionRemoved, Breaking, "production server"},
		{"sandbox moved first", []string{"  - url: https://sandboxapi.kelviq.com/api/v1\n    description: Sandbox\n", "", "    description: Production\n", "    description: Production\n  - url: https://sandboxapi.kelviq.com/api/v1\n    description: Sandbox\n"}, true, nil, get, KindServerOrderChanged, NonBreaking, "reordered"},
		{"server description changed", []string{"description: Sandbox", "description: Sandbox — Test payments"}, false, nil, get, KindServerDescriptionChanged, DocsOnly, "Sandbox — Test payments"},
		{"same servers at operation level", []string{"      operationId: getThing\n", "      operationId: getThing\n      servers:\n        - url: https://sandboxapi.kelviq.com/api/v1\n        - url: https://api.kelviq.com/api/v1\n"}, false, nil, get, KindServerLevelChanged, NonBreaking, "operation level"},
		{"edge host for one operation", []string{"      operationId: getThing\n", "      operationId: getThing\n      servers:\n        - url: https://edge.sandboxapi.kelviq.com/api/v1\n        - url: https://edge.api.kelviq.com/api/v1\n"}, false, nil, get, KindServerURLChanged, Breaking, "edge.api.kelviq.com"},
		{"security changed", []string{"      operationId: getThing\n", "      operationId: getThing\n      security: [{partnerKeyAuth: []}]\n"}, false, nil, get, KindSecurityChanged, Breaking, "from `bearerAuth` (top level) to `partnerKeyAuth` (operation level)"},
		{"made public", []string{"      operationId: getThing\n", "      operationId: getThing\n      security: []\n"}, false, nil, get, KindSecurityChanged, Breaking, "none (public)"},
		{"same security at operation level", []string{"      operationId: getThing\n", "      operationId: getThing\n      security: [{bearerAuth: []}]\n"}, false, nil, get, KindSecurityLevelChanged, NonBreaking, "operation level"},
		{name: "security header renamed", repl: []string{"name: X-Kelviq-Partner-Key", "name: X-Partner-Key"},
			common: []string{"      operationId: getThing\n", "      operationId: getThing\n      security: [{partnerKeyAuth: []}]\n"},
			op:     get, kind: KindSecuritySchemeChanged, level: Breaking, msg: "security scheme `partnerKeyAuth` changed: name \"X-Kelviq-Partner-Key\" → \"X-Partner-Key\""},
		{"scheme description changed", []string{"description: Server key.", "description: The server key."}, false, nil, get, KindSecuritySchemeDescriptionChanged, DocsOnly, "bearerAuth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := edit(t, baseSpec, tc.common...)
			edited := edit(t, start, tc.repl...)
			base, rev := start, edited
			if tc.reverse {
				base, rev = edited, start
			}
			c := compareYAML(t, base, rev)
			found := false
			for _, ch := range c.Changes {
				if ch.Operation == tc.op && ch.Kind == tc.kind && ch.Level == tc.level && strings.Contains(ch.Message, tc.msg) {
					found = true
				}
				if tc.level != Breaking && ch.Breaking {
					t.Errorf("unexpected breaking change %+v", ch)
				}
				if ch.Breaking != (ch.Level == Breaking) {
					t.Errorf("Breaking and Level disagree: %+v", ch)
				}
			}
			if !found {
				t.Errorf("no %s %s change on %s mentioning %q; got:", tc.level, tc.kind, tc.op, tc.msg)
				for _, ch := range c.Changes {
					t.Logf("  %s %s %s: %s", ch.Operation, ch.Level, ch.Kind, ch.Message)
				}
			}
		})
	}
}

func TestIdenticalSpecsHaveNoChanges(t *testing.T) {
	t.Parallel()
	c := compareYAML(t, baseSpec, baseSpec)
	if len(c.Changes) != 0 || len(c.Added) != 0 || len(c.Removed) != 0 {
		t.Errorf("%+v", c)
	}
}

// Our levels for the oasdiff rules where they differ from oasdiff's, and a
// guard that the rule ids still exist in the pinned oasdiff.
func TestRuleLevels(t *testing.T) {
	t.Parallel()
	known := map[string]checker.Level{}
	for _, r := range checker.GetAllRules() {
		known[r.Id] = r.Level
		if got := ruleLevel(r.Id); got != Breaking && got != NonBreaking {
			t.Errorf("%s: level %q", r.Id, got)
		}
	}
	for id, want := range map[string]Level{
		// oasdiff: warning or info; a generated Go client: breaking.
		"request-parameter-removed":              Breaking,
		"request-property-removed":               Breaking,
		"response-optional-property-removed":     Breaking,
		"request-parameter-became-optional":      Breaking,
		"request-property-became-optional":       Breaking,
		"response-property-became-required":      Breaking,
		"request-body-added-optional":            Breaking,
		"response-property-enum-value-removed":   Breaking,
		"request-property-became-nullable":       Breaking,
		"request-body-media-type-schema-removed": Breaking,
		// oasdiff: error; a generated Go client: non-breaking.
		"response-property-enum-value-added":    NonBreaking,
		"request-property-max-length-decreased": NonBreaking,
		"request-parameter-pattern-added":       NonBreaking,
		"request-property-min-increased":        NonBreaking,
		"response-body-one-of-added":            NonBreaking,
		"api-deprecated-sunset-missing":         NonBreaking,
		"request-body-became-required":          NonBreaking,
		"response-header-became-optional":       NonBreaking,
		"response-header-schema-became-false":   NonBreaking,
		// Same as oasdiff.
		"new-required-request-parameter":    Breaking,
		"request-parameter-became-required": Breaking,
		"response-success-status-removed":   Breaking,
		"response-property-type-changed":    Breaking,
		"new-optional-request-parameter":    NonBreaking,
		"response-optional-property-added":  NonBreaking,
		"request-property-enum-value-added": NonBreaking,
	} {
		if _, ok := known[id]; !ok {
			t.Errorf("%s: not an oasdiff v1.37.0 rule", id)
		}
		if got := ruleLevel(id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	for _, id := range []string{"api-security-removed", "api-global-security-added", "api-operation-id-removed", "api-tag-added", "endpoint-added"} {
		if _, ok := known[id]; !ok {
			t.Errorf("%s: not an oasdiff v1.37.0 rule", id)
		}
		if !skippedRule(id) {
			t.Errorf("%s: not skipped (this package checks it)", id)
		}
	}
}

func TestGoTypeKept(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []any
		want bool
	}{
		{[]any{"a/b", "format", "none", "uri", "200"}, true},
		{[]any{"a/b", "format", "none", "date-time", "200"}, false},
		{[]any{"a/b", "type", "integer", "string", "200"}, false},
		{[]any{"query", "format", "type", "integer", "string"}, false}, // a parameter named "format"
		{[]any{"query", "p", "format", "int32", "int64"}, false},
		{[]any{"x"}, false},
	} {
		if got := goTypeKept(tc.args); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.args, got, tc.want)
		}
	}
}
