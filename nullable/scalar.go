package nullable

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// decodeScalar decodes data into *v when v is a string, bool, int, int32,
// int64 or float64 and data is the plain JSON form of it. It reports false
// when it did not handle the value (other types, escaped strings, anything
// unusual), and the caller falls back to encoding/json, so the results and
// error messages stay encoding/json's.
func decodeScalar(data []byte, v any) (bool, error) {
	switch p := v.(type) {
	case *string:
		s, ok := plainString(data)
		if ok {
			*p = s
		}
		return ok, nil
	case *bool:
		switch string(data) {
		case "true":
			*p = true
			return true, nil
		case "false":
			*p = false
			return true, nil
		}
	case *int:
		if !isJSONInt(data) {
			return false, nil
		}
		i, err := strconv.ParseInt(string(data), 10, strconv.IntSize)
		if err == nil {
			*p = int(i)
			return true, nil
		}
	case *int32:
		if !isJSONInt(data) {
			return false, nil
		}
		i, err := strconv.ParseInt(string(data), 10, 32)
		if err == nil {
			*p = int32(i)
			return true, nil
		}
	case *int64:
		if !isJSONInt(data) {
			return false, nil
		}
		i, err := strconv.ParseInt(string(data), 10, 64)
		if err == nil {
			*p = i
			return true, nil
		}
	case *float64:
		if len(data) > 0 && (data[0] == '-' || data[0] >= '0' && data[0] <= '9') && json.Valid(data) {
			f, err := strconv.ParseFloat(string(data), 64)
			if err == nil {
				*p = f
				return true, nil
			}
		}
	}
	return false, nil
}

// isJSONInt reports whether data is a JSON integer: an optional '-', then
// "0" or digits without a leading zero (strconv alone also accepts "+1"
// and "01").
func isJSONInt(data []byte) bool {
	if len(data) > 0 && data[0] == '-' {
		data = data[1:]
	}
	if len(data) == 0 || (data[0] == '0' && len(data) > 1) {
		return false
	}
	for _, c := range data {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plainString returns the contents of a JSON string literal that has no
// escapes and no control characters, and false for anything else.
func plainString(data []byte) (string, bool) {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return "", false
	}
	body := data[1 : len(data)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(body) {
		// encoding/json replaces invalid UTF-8 with U+FFFD; let it.
		return "", false
	}
	return string(body), true
}
