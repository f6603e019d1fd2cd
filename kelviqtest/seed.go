package kelviqtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ExampleSeed is a documented example of a seed for WithSeed and
// kelviq-mock -seed (kelviqtest/testdata/seed.json): three customers, the
// entitlements of one of them (a metered feature with a hard limit, one
// with a soft limit, a flag) and a partner organization.
//
//	srv := kelviqtest.NewServer(t, kelviqtest.WithSeed(bytes.NewReader(kelviqtest.ExampleSeed)))
//
//go:embed testdata/seed.json
var ExampleSeed []byte

// seedKeys are the top-level keys a seed may have.
var seedKeys = []string{"customers", "entitlements", "partnerOrganizations"}

// seedData is a parsed and checked seed: every item a JSON object that
// validates against its schema, with the server-made fields filled in.
type seedData struct {
	customers    []map[string]any
	entitlements []seedEntitlement
	orgs         []map[string]any
}

// seedEntitlement is an entitlement of a customer: the spec's
// EntitlementDetail (def) and the customer it belongs to.
type seedEntitlement struct {
	customerID string
	def        map[string]any
}

// parseSeed reads a seed fixture. Errors name the key, the item's index
// and the field at fault.
func (s *spec) parseSeed(data []byte) (*seedData, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&top); err != nil || top == nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			// Say where: a fixture is often long.
			line, col := position(data, syntax.Offset)
			return nil, fmt.Errorf("kelviqtest: seed: invalid JSON at line %d, column %d: %v", line, col, err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("kelviqtest: seed: invalid JSON: it ends in the middle of a value")
		}
		return nil, fmt.Errorf("kelviqtest: seed: not a JSON object with the keys %s", strings.Join(seedKeys, ", "))
	}
	if dec.More() {
		return nil, fmt.Errorf("kelviqtest: seed: more than one JSON value")
	}
	if dup := duplicateKey(data); dup != "" {
		return nil, fmt.Errorf("kelviqtest: seed: the top-level key %q appears twice (only the last would count)", dup)
	}
	var unknown []string
	for _, k := range sortedKeys(top) {
		if !slices.Contains(seedKeys, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("kelviqtest: seed: unknown top-level key %s (the keys are %s)", strings.Join(unknown, ", "), strings.Join(seedKeys, ", "))
	}
	items := map[string][]map[string]any{}
	for _, k := range seedKeys {
		raw, ok := top[k]
		if !ok {
			continue
		}
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("kelviqtest: seed: %s: not an array of objects", k)
		}
		for i, item := range list {
			if item == nil {
				return nil, fmt.Errorf("kelviqtest: seed: %s[%d]: not an object", k, i)
			}
		}
		items[k] = list
	}

	out := &seedData{}
	customerIDs, uuids := map[string]bool{}, map[string]bool{}
	for i, c := range items["customers"] {
		where := fmt.Sprintf("customers[%d]", i)
		id, err := requiredString(c, "customerId", where)
		if err != nil {
			return nil, err
		}
		if customerIDs[id] {
			return nil, fmt.Errorf("kelviqtest: seed: %s: customerId %q is used twice", where, id)
		}
		customerIDs[id] = true
		c = fillCustomer(c, objectUUID(kindCustomer, int64(i+1)), seedTime)
		if err := s.checkItem("CustomerResponse", c, where); err != nil {
			return nil, err
		}
		uuid := strings.ToLower(c["id"].(string)) // a UUID string: checked above
		if uuids[uuid] {
			return nil, fmt.Errorf("kelviqtest: seed: %s: id %q is used twice (a customer without an id gets %s, the n-th such form)", where, c["id"], objectUUID(kindCustomer, int64(i+1)))
		}
		uuids[uuid] = true
		out.customers = append(out.customers, c)
	}

	entKeys := map[entKey]bool{}
	for i, e := range items["entitlements"] {
		where := fmt.Sprintf("entitlements[%d]", i)
		cust, err := requiredString(e, "customerId", where)
		if err != nil {
			return nil, err
		}
		feature, err := requiredString(e, "featureId", where)
		if err != nil {
			return nil, err
		}
		if _, err := requiredString(e, "featureType", where); err != nil {
			return nil, err
		}
		k := entKey{cust, feature}
		if entKeys[k] {
			return nil, fmt.Errorf("kelviqtest: seed: %s: customer %q has feature %q twice", where, cust, feature)
		}
		entKeys[k] = true
		def := withoutKey(e, "customerId")
		if err := s.checkItem("EntitlementDetail", def, where); err != nil {
			return nil, err
		}
		if u, ok := def["currentUsage"].(float64); ok && u < 0 {
			return nil, fmt.Errorf("kelviqtest: seed: %s: currentUsage is negative", where)
		}
		out.entitlements = append(out.entitlements, seedEntitlement{customerID: cust, def: def})
	}

	orgIDs, externalIDs := map[string]bool{}, map[string]bool{}
	for i, o := range items["partnerOrganizations"] {
		where := fmt.Sprintf("partnerOrganizations[%d]", i)
		ext, err := requiredString(o, "partnerExternalId", where)
		if err != nil {
			return nil, err
		}
		if _, ok := o["organizationIdentifier"]; !ok {
			o = withKey(o, "organizationIdentifier", objectUUID(kindOrganization, int64(i+1)))
		}
		if err := s.checkItem("PartnerOrganization", o, where); err != nil {
			return nil, err
		}
		id, _ := o["organizationIdentifier"].(string)
		id = strings.ToLower(id)
		if orgIDs[id] || externalIDs[ext] {
			return nil, fmt.Errorf("kelviqtest: seed: %s: organizationIdentifier or partnerExternalId is used twice", where)
		}
		orgIDs[id], externalIDs[ext] = true, true
		out.orgs = append(out.orgs, o)
	}
	return out, nil
}

// checkItem validates a seed item against a schema of the spec's
// components, and refuses properties the schema does not declare (the
// generated client would drop them silently).
func (s *spec) checkItem(schema string, v map[string]any, where string) error {
	ref := s.doc.Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("kelviqtest: seed: the spec has no schema %s", schema)
	}
	opts := append(slices.Clone(s.formats), openapi3.VisitAsResponse())
	if err := ref.Value.VisitJSON(map[string]any(v), opts...); err != nil {
		return fmt.Errorf("kelviqtest: seed: %s: does not match the spec's %s: %s", where, schema, schemaReason(err))
	}
	if extra := undeclared(ref.Value, map[string]any(v), ""); len(extra) > 0 {
		return fmt.Errorf("kelviqtest: seed: %s: properties the spec's %s does not declare: %s", where, schema, strings.Join(extra, ", "))
	}
	return nil
}

// requiredString returns the non-empty string at key, or an error naming it.
func requiredString(m map[string]any, key, where string) (string, error) {
	v, ok := m[key].(string)
	if !ok || v == "" {
		return "", fmt.Errorf("kelviqtest: seed: %s: %s is required (a non-empty string)", where, key)
	}
	return v, nil
}

// duplicateKey returns a top-level key that appears twice in the JSON
// object data, "" when none does. encoding/json keeps the last silently,
// which would drop a whole list of a fixture put together from parts.
// data has been decoded once already: it is one JSON object.
func duplicateKey(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		k, _ := tok.(string)
		if seen[k] {
			return k
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// position is the line and column (from 1, in bytes) of offset in data;
// a json.SyntaxError's Offset is just after the byte at fault.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}
