package kelviq_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/kelviq"
)

// keyFragments are pieces of the fault suite's keys: any of them in an
// output is a leak, whole key or not.
var keyFragments = []string{secretMarker, "0a1b2c3d4e", "9f8e7d6c5b", faultServerKey, faultPartnerKey}

// leak returns the first key fragment in s, or "".
func leak(s string) string {
	for _, f := range keyFragments {
		if strings.Contains(s, f) {
			return f
		}
	}
	return ""
}

// hideKeys makes s printable in a failure message.
func hideKeys(s string) string {
	for _, k := range []string{faultServerKey, faultPartnerKey, secretMarker} {
		s = strings.ReplaceAll(s, k, "<KEY>")
	}
	return s
}

// TestFaultSuiteLeaksNoSecrets runs every case of the fault suite again and
// searches all it produced for key material: each error (as %v, %+v and %#v,
// and an *Error's message, fields, request ID and body), every log line of
// the client, every panic, what the fault servers logged, and the client
// itself printed.
func TestFaultSuiteLeaksNoSecrets(t *testing.T) {
	if f := leak("x" + faultServerKey[8:20] + "…"); f == "" {
		t.Fatal("the check does not see a partial key")
	}
	type output struct{ where, text string }
	var outputs []output
	errorTexts, logLines := 0, 0
	for _, fc := range faultCases {
		h := newHarness(t)
		t.Run(fc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					outputs = append(outputs, output{fc.name + ": panic", fmt.Sprint(r)})
					t.Errorf("panic: %s", hideKeys(fmt.Sprint(r)))
				}
			}()
			fc.run(t, h)
		})
		h.mu.Lock()
		for _, s := range h.texts {
			outputs = append(outputs, output{fc.name + ": error", s})
		}
		errorTexts += len(h.texts)
		h.mu.Unlock()
		logs := h.logs.String()
		logLines += strings.Count(logs, "\n")
		outputs = append(outputs, output{fc.name + ": log", logs})
	}
	outputs = append(outputs, output{"fault servers' log", serverLog.String()})

	c, err := kelviq.NewClient(kelviq.WithServerKey(faultServerKey), kelviq.WithPartnerKey(faultPartnerKey))
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, output{"the client printed", fmt.Sprintf("%v %+v %#v %v %+v", c, c, c, *c, *c)})

	// The suite must have produced something to search.
	if errorTexts < 80 || logLines < 8 {
		t.Errorf("only %d error texts and %d log lines: the search proves little", errorTexts, logLines)
	}
	for _, o := range outputs {
		if f := leak(o.text); f != "" {
			t.Errorf("%s holds key material (%d bytes of it): %s", o.where, len(f), hideKeys(o.text))
		}
	}
}
