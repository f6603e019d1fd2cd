package kelviq

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A key across the cap of Error.Body (64 KiB, or the response limit when
// lower: 1 KiB here, the same cut, quicker), cut at every byte of it, in
// every form the redactor knows (as is, first character escaped, every
// character escaped, upper-case hex, "\/"), leaves no piece of 8 bytes or
// more in Body, Message or what a JSON reader makes of Body, written as is
// or escaped.
func TestRedactEveryCutOfTheCap(t *testing.T) {
	const key = "sk_test_CAPSECRET/0a1b2c3d4e"
	const limit = 1 << 10
	c := &responseChecker{maxBody: limit, red: newRedactor(key, "kvqp_other")}
	esc := func(s, format string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, format, r)
		}
		return b.String()
	}
	forms := []string{key, `\u0073` + key[1:], esc(key, `\u%04x`), esc(key, `\u%04X`), strings.ReplaceAll(key, "/", `\/`)}
	// pieces are every 8-byte window of the key, as is and escaped each
	// way: none may survive.
	var pieces []string
	for i := 0; i+minFragment <= len(key); i++ {
		w := key[i : i+minFragment]
		pieces = append(pieces, w, esc(w, `\u%04x`), esc(w, `\u%04X`))
	}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/customers/", nil)
	cases := 0
	for _, form := range forms {
		for into := 0; into <= len(form); into++ {
			prefix := `{"detail":"`
			body := prefix + strings.Repeat("x", limit-len(prefix)-into) + form + `"}`
			resp := &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
			e := c.newError(nil, req, resp)
			cases++
			texts := []string{string(e.Body), e.Message, e.Error()}
			var v any
			if json.Unmarshal(e.Body, &v) == nil {
				texts = append(texts, fmt.Sprint(v))
			}
			for _, s := range texts {
				for _, p := range pieces {
					if strings.Contains(s, p) {
						t.Fatalf("form %.12q cut %d bytes in: %q survives (…%q)", form, into, p, s[max(0, len(s)-80):])
					}
				}
			}
			if len(e.Body) > limit {
				t.Fatalf("Body of %d bytes", len(e.Body))
			}
		}
	}
	t.Logf("%d cuts", cases)
}
