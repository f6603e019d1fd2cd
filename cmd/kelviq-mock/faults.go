package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kelviq/kelviq-go/kelviqtest"
)

// namedFault is a fault and the operation it is for.
type namedFault struct {
	operation string
	fault     kelviqtest.Fault
}

// parseFaultFlag reads a -fault value: operation=ITEM[,ITEM…], where an
// ITEM is STATUS[xTIMES] (503x3), drop[xTIMES] (drop the connection),
// times=N, delay=DURATION or retryAfter=DURATION (Go durations: 1.5s,
// 200ms). The operation is the spec's operationId, or * for every
// operation.
func parseFaultFlag(v string) (namedFault, error) {
	op, spec, ok := strings.Cut(v, "=")
	if !ok || op == "" || spec == "" {
		return namedFault{}, fmt.Errorf("-fault %q: want operation=STATUS[xTIMES][,delay=DURATION][,retryAfter=DURATION] or operation=drop[xTIMES], e.g. listCustomers=503x3", v)
	}
	var f kelviqtest.Fault
	for item := range strings.SplitSeq(spec, ",") {
		key, val, hasVal := strings.Cut(item, "=")
		var err error
		switch {
		case hasVal && key == "delay":
			f.Delay, err = parseDuration(val)
		case hasVal && key == "retryAfter":
			f.RetryAfter, err = parseDuration(val)
		case hasVal && key == "times":
			f.Times, err = strconv.Atoi(val)
		case hasVal:
			err = fmt.Errorf("unknown setting %q (the settings are delay, retryAfter and times)", key)
		default:
			head, times, hasTimes := strings.Cut(item, "x")
			if hasTimes {
				if f.Times, err = strconv.Atoi(times); err != nil || f.Times < 1 {
					err = fmt.Errorf("%q: the count after x is not a positive number", item)
					break
				}
			}
			if head == "drop" {
				f.DropConnection = true
			} else if f.Status, err = strconv.Atoi(head); err != nil {
				err = fmt.Errorf("%q is neither a status, drop, nor a setting", item)
			}
		}
		if err != nil {
			return namedFault{}, fmt.Errorf("-fault %q: %w", v, err)
		}
	}
	return namedFault{op, f}, nil
}

// parseDuration reads a Go duration, never negative.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 250ms or 2s", s)
	}
	return d, nil
}

// faultRequest is the JSON body of POST /__kelviqtest/faults: the Fault
// fields in camelCase. delay and retryAfter are Go durations ("2s") or
// numbers of seconds.
type faultRequest struct {
	Operation      string              `json:"operation"`
	Status         int                 `json:"status"`
	Times          int                 `json:"times"`
	Delay          jsonDuration        `json:"delay"`
	RetryAfter     jsonDuration        `json:"retryAfter"`
	DropConnection bool                `json:"dropConnection"`
	Header         map[string][]string `json:"header"`
	Body           json.RawMessage     `json:"body"`
}

// jsonDuration is a duration written as "1.5s" or as a number of seconds.
type jsonDuration time.Duration

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := parseDuration(s)
		*d = jsonDuration(v)
		return err
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil || secs < 0 {
		return fmt.Errorf("%s is neither a duration string such as \"2s\" nor a number of seconds", b)
	}
	// Beyond about 292 years the nanoseconds overflow (to a negative
	// duration, then refused as if the number were negative).
	if secs > maxDurationSeconds {
		return fmt.Errorf("%s seconds is longer than a duration can be (%.0f seconds)", b, maxDurationSeconds)
	}
	*d = jsonDuration(secs * float64(time.Second))
	return nil
}

// maxDurationSeconds is the longest duration, in seconds.
const maxDurationSeconds = float64(math.MaxInt64 / int64(time.Second))

// decodeFaultRequest reads the admin endpoint's body: one JSON object,
// nothing after it; unknown fields are an error naming them.
func decodeFaultRequest(body []byte) (namedFault, error) {
	var req faultRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return namedFault{}, fmt.Errorf("the body is not a fault: %v (fields: operation, status, times, delay, retryAfter, dropConnection, header, body)", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return namedFault{}, errors.New("the body is not a fault: something follows the JSON object (send one fault per request)")
	}
	if req.Operation == "" {
		return namedFault{}, errors.New(`"operation" is required: the spec's operationId, e.g. "listCustomers", or "*"`)
	}
	f := kelviqtest.Fault{
		Status:         req.Status,
		Times:          req.Times,
		Delay:          time.Duration(req.Delay),
		RetryAfter:     time.Duration(req.RetryAfter),
		DropConnection: req.DropConnection,
	}
	if len(req.Header) > 0 {
		f.Header = http.Header{}
		for k, vs := range req.Header {
			for _, v := range vs {
				f.Header.Add(k, v)
			}
		}
	}
	if len(req.Body) > 0 && string(req.Body) != "null" {
		f.Body = []byte(req.Body)
	}
	return namedFault{req.Operation, f}, nil
}
