package specdrift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// LoadSpec parses an OpenAPI document (JSON or YAML) and resolves its
// internal references. It does not validate the document: every upstream
// kelviq spec fails kin-openapi's validation on one example, which does not
// matter for a comparison. External references are refused. source names the
// document in errors.
func LoadSpec(data []byte, source string) (doc *openapi3.T, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty document", source)
	}
	defer func() {
		// kin-openapi is not expected to panic, but a check must never
		// crash on hostile input: turn a panic into an error naming the source.
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("%s: loading the spec failed: %v", source, r)
		}
	}()
	loader := openapi3.NewLoader()
	doc, err = loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a loadable OpenAPI document: %w", source, err)
	}
	if doc.OpenAPI == "" {
		return nil, fmt.Errorf("%s: not an OpenAPI document (no \"openapi\" version field)", source)
	}
	return doc, nil
}

// LoadView loads a full spec and collects its operations, in document order
// when the document is JSON.
func LoadView(data []byte, source string) (*View, error) {
	doc, err := LoadSpec(data, source)
	if err != nil {
		return nil, err
	}
	v, err := NewView(doc, source)
	if err != nil {
		return nil, err
	}
	if order, err := jsonOperationOrder(data); err == nil {
		v.setOrder(order)
	}
	return v, nil
}

// jsonOperationOrder lists the operations of a JSON spec in document order
// (kin-openapi keeps paths in a map). The docs site numbers pages with the
// same slug in this order.
func jsonOperationOrder(data []byte) ([]OpKey, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		if key != "paths" {
			if err := skipValue(dec); err != nil {
				return nil, err
			}
			continue
		}
		return pathsOrder(dec)
	}
	return nil, errors.New("no paths")
}

func pathsOrder(dec *json.Decoder) ([]OpKey, error) {
	var keys []OpKey
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		path, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		if err := expectDelim(dec, '{'); err != nil {
			return nil, err
		}
		for dec.More() {
			field, err := stringToken(dec)
			if err != nil {
				return nil, err
			}
			if m := strings.ToUpper(field); knownMethod(m) {
				keys = append(keys, OpKey{Method: m, Path: path})
			}
			if err := skipValue(dec); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
	}
	return keys, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("want a key, got %v", tok)
	}
	return s, nil
}

func skipValue(dec *json.Decoder) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
