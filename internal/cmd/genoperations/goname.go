package main

import (
	"go/token"
	"regexp"
	"strings"
	"unicode"
)

// goName returns the Go name oapi-codegen gives an operationId with
// name-normalizer ToCamelCaseWithInitialisms (api/oapi-codegen.yaml): words
// split at case changes and digits, each capitalised, and known initialisms
// upper-cased (listCustomers → ListCustomers, ...ByExternalId → ...ByExternalID).
// The generated table refers to every client method by this name in a
// method expression, so a mismatch fails to compile instead of passing
// silently.
func goName(operationID string) string {
	parts := wordParts.FindAllString(camelWithDigits(operationID), -1)
	for i, p := range parts {
		if v, ok := initialisms[strings.ToLower(p)]; ok {
			parts[i] = v
		}
	}
	return strings.Join(parts, "")
}

var wordParts = regexp.MustCompile(`[\p{Lu}\d]+([\p{Ll}\d]+|$)`)

// camelWithDigits mirrors oapi-codegen's ToCamelCaseWithDigits.
func camelWithDigits(s string) string {
	var b strings.Builder
	capNext := true
	for _, r := range s {
		switch {
		case unicode.IsUpper(r):
			b.WriteRune(r)
			capNext = false
		case unicode.IsDigit(r):
			b.WriteRune(r)
			capNext = true
		case unicode.IsLower(r):
			if capNext {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			capNext = false
		default:
			capNext = true
		}
	}
	return b.String()
}

// initialisms is oapi-codegen v2.8.2's list (pkg/codegen/utils.go).
var initialisms = func() map[string]string {
	m := map[string]string{}
	for _, s := range strings.Fields(`ACL API ASCII CPU CSS DNS EOF GUID HTML HTTP HTTPS ID IP JSON
		QPS RAM RPC SLA SMTP SQL SSH TCP TLS TTL UDP UI GID UID UUID
		URI URL UTF8 VM XML XMPP XSRF XSS SIP RTP AMQP DB TS`) {
		m[strings.ToLower(s)] = s
	}
	return m
}()

// typeName returns the Go type name oapi-codegen gives a schema of
// components.schemas with the same name normalizer (SchemaNameToTypeName:
// the normalized name, prefixed with "N" when it starts with a digit). The
// generated iterators name the type, so a mismatch fails to compile.
func typeName(schema string) string {
	n := goName(schema)
	if n != "" && unicode.IsDigit(rune(n[0])) {
		n = "N" + n
	}
	return n
}

// argName is a Go argument name for a parameter: goName with its first word
// in lower case (session_id → sessionID, id → id), and not a keyword.
func argName(param string) string {
	parts := wordParts.FindAllString(camelWithDigits(param), -1)
	if len(parts) == 0 {
		return "arg"
	}
	for i, p := range parts {
		switch v, ok := initialisms[strings.ToLower(p)]; {
		case i == 0:
			parts[i] = strings.ToLower(p)
		case ok:
			parts[i] = v
		}
	}
	name := strings.Join(parts, "")
	if token.IsKeyword(name) || unicode.IsDigit(rune(name[0])) {
		name = "arg" + goName(param)
	}
	return name
}
