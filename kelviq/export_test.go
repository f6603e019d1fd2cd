package kelviq

import "reflect"

// RespellIntegers exposes respellIntegers to the tests of package
// kelviq_test: it rewrites each number of body whose Go target (in t) is
// an integer kind with respell(number, its type).
func RespellIntegers(body []byte, t reflect.Type, respell func(tok []byte, t reflect.Type) ([]byte, error)) ([]byte, int, error) {
	return respellIntegers(body, t, respell)
}
