package kelviq_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/kelviq"
)

// keyPiece returns the first piece of 8 bytes or more of key in s (any
// 8-byte window of it), or "".
func keyPiece(s, key string) string {
	for i := 0; i+8 <= len(key); i++ {
		if strings.Contains(s, key[i:i+8]) {
			return key[i : i+8]
		}
	}
	return ""
}

// everywhere returns every text an error shows: Error(), %v, %+v, %#v,
// json.Marshal(err), and an *Error's Body (raw and as JSON read back),
// Message, FieldErrors and RequestID.
func everywhere(t *testing.T, err error) map[string]string {
	t.Helper()
	out := map[string]string{
		"Error()": err.Error(),
		"%v":      fmt.Sprintf("%v", err),
		"%+v":     fmt.Sprintf("%+v", err),
		"%#v":     fmt.Sprintf("%#v", err),
	}
	if b, jerr := json.Marshal(err); jerr == nil {
		out["json.Marshal"] = string(b)
	}
	// What errors.As hands a caller: every error in the chain (a
	// *url.Error among them), printed on its own.
	for i, e := range chain(err) {
		out[fmt.Sprintf("chain[%d] %T", i, e)] = e.Error()
	}
	var e *kelviq.Error
	if errors.As(err, &e) {
		out["Body"] = string(e.Body)
		out["Message"] = e.Message
		out["RequestID"] = e.RequestID
		out["FieldErrors"] = fmt.Sprint(e.FieldErrors)
		// The body as a JSON reader sees it: escapes decoded.
		var v any
		if json.Unmarshal(e.Body, &v) == nil {
			out["Body decoded"] = fmt.Sprint(v)
		}
	}
	return out
}

// chain returns every error err wraps, depth first (err excluded).
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		var next []error
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			next = []error{u.Unwrap()}
		case interface{ Unwrap() []error }:
			next = u.Unwrap()
		}
		for _, n := range next {
			if n != nil {
				out = append(out, n)
				walk(n)
			}
		}
	}
	walk(err)
	return out
}

func checkNoKey(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	for where, s := range everywhere(t, err) {
		for _, k := range []string{faultServerKey, faultPartnerKey} {
			if p := keyPiece(s, k); p != "" {
				t.Errorf("%s: %s holds %q of a key: %s", what, where, p, hideKeys(s))
			}
		}
	}
}

// A key the server echoes in X-Request-Id, after enough text that the
// 128-byte cap falls inside the key: redacted before the cut, so no piece
// of it shows anywhere.
func TestRedactRequestIDBeforeTheCut(t *testing.T) {
	pad := 0
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("X-Request-Id", "req_"+strings.Repeat("a", pad)+faultServerKey)
		writeJSON(w, 400, `{"detail":"bad"}`)
	})
	h := newHarness(t)
	c := h.client(srv.URL, nil)
	for pad = 90; pad <= 130; pad++ {
		_, err := c.ListCustomersWithResponse(t.Context(), nil)
		checkNoKey(t, fmt.Sprintf("padding %d", pad), err)
	}
	if strings.Contains(h.logs.String(), secretMarker) {
		t.Error("the log holds a key")
	}
}

// A key echoed inside a JSON string with escapes survives no form of the
// body: \u0073k_…, every character escaped, upper-case hex.
func TestRedactJSONEscapedKeys(t *testing.T) {
	escapeAll := func(s string, format string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, format, r)
		}
		return b.String()
	}
	forms := map[string]string{
		"first escaped":      `\u0073` + faultServerKey[1:],
		"all escaped":        escapeAll(faultServerKey, `\u%04x`),
		"all escaped, upper": escapeAll(faultServerKey, `\u%04X`),
		"middle escaped":     faultServerKey[:10] + fmt.Sprintf(`\u%04x`, faultServerKey[10]) + faultServerKey[11:],
		"partner, escaped":   escapeAll(faultPartnerKey[:6], `\u%04x`) + faultPartnerKey[6:],
		"plain":              faultServerKey,
		"percent-encoded":    strings.ReplaceAll(faultServerKey, "_", "%5F"),
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 401, `{"detail":"Invalid token: Bearer `+form+`","token":["`+form+`"],"`+form+`":["x"]}`)
			})
			_, err := newHarness(t).client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
			checkNoKey(t, name, err)
			var e *kelviq.Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, "[redacted]") || !strings.Contains(string(e.Body), "[redacted]") {
				t.Errorf("not redacted but gone? %v", err)
			}
		})
	}
}

// A key cut in half by the 64 KiB cap on Error.Body leaves nothing of
// itself, wherever the cut falls in it.
func TestRedactBodyAcrossTheCap(t *testing.T) {
	const capBytes = 64 << 10
	for _, inKey := range []int{1, 8, 9, 15, len(faultServerKey) - 1} {
		for _, form := range []string{faultServerKey, `\u0073` + faultServerKey[1:]} {
			prefix := `{"detail":"`
			pad := capBytes - len(prefix) - inKey
			body := prefix + strings.Repeat("x", pad) + form + `"}`
			srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 500, body)
			})
			_, err := newHarness(t).client(srv.URL, nil, kelviq.WithRetries(0)).ListCustomersWithResponse(t.Context(), nil)
			checkNoKey(t, fmt.Sprintf("cut %d bytes into %.7s…", inKey, form), err)
			var e *kelviq.Error
			if errors.As(err, &e) && len(e.Body) > capBytes {
				t.Errorf("body of %d bytes, over the cap", len(e.Body))
			}
		}
	}
}

// The server's own cut: a body or a message that ends in the first part
// of a key (8 characters or more) has that part redacted.
func TestRedactTrailingPieceOfAKey(t *testing.T) {
	piece := faultServerKey[:14]
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("X-Request-Id", "req_"+piece)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(400)
		_, _ = w.Write([]byte("bad token " + piece))
	})
	_, err := newHarness(t).client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
	checkNoKey(t, "trailing piece", err)
}

// net/http quotes a malformed header line in its error: a server echoing a
// key there finds it redacted in the call's error (and in the log).
func TestRedactTransportErrors(t *testing.T) {
	srv := newRawFaultServer(t, func(s *faultServer) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.add(r)
			conn, rw := hijack(t, w)
			defer conn.Close()
			_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + faultServerKey + "\r\n\r\n{}")
			_ = rw.Flush()
			_, _ = bufio.NewReader(conn).ReadByte()
		})
	})
	h := newHarness(t)
	_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
	checkNoKey(t, "malformed header", err)
	if !strings.Contains(err.Error(), "listCustomers") {
		t.Errorf("the error does not name the operation: %v", err)
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("nothing was redacted: %v", err)
	}
	if logs := h.logs.String(); strings.Contains(logs, secretMarker) {
		t.Errorf("log: %s", hideKeys(logs))
	}
}

// A success body that does not decode: the parser's error quotes the value
// it could not read (a time), and a server can put a key there. The call's
// error names the operation and holds no key.
func TestRedactUndecodableSuccessBody(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, `{"count":1,"results":[{"timestamp":"`+faultServerKey+`"}]}`)
	})
	_, err := newHarness(t).client(srv.URL, nil).ListCheckoutSessionEventsWithResponse(t.Context(), "cs_1", nil)
	checkNoKey(t, "undecodable time", err)
	if !errors.Is(err, kelviq.ErrUnexpectedResponse) || !strings.Contains(err.Error(), "listCheckoutSessionEvents") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error: %v", err)
	}
}

// A redirect's Location is the server's to choose: a hop to a path holding
// a key, which then fails and is retried, is logged without the key, and
// the call's error (which may quote the URL) holds none either.
func TestRedactRedirectedPathInTheRetryLog(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !strings.Contains(r.URL.Path, "echo") {
			http.Redirect(w, r, "/echo/"+faultServerKey+"/?k="+faultPartnerKey, http.StatusTemporaryRedirect)
			return
		}
		writeJSON(w, 503, `{"detail":"busy"}`)
	})
	h := newHarness(t)
	_, err := h.client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
	checkNoKey(t, "redirected", err)
	logs := h.logs.String()
	if !strings.Contains(logs, "retrying") {
		t.Fatalf("nothing was retried: %s", hideKeys(logs))
	}
	if strings.Contains(logs, secretMarker) {
		t.Errorf("log: %s", hideKeys(logs))
	}
}

// A redirect loop through a Location holding a key: net/http's *url.Error
// quotes the last URL. The call's error and the *url.Error errors.As finds
// hold no key, and errors.As still finds it.
func TestRedactRedirectURLInTheURLError(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, fmt.Sprintf("/customers/?token=%s&n=%d", faultServerKey, n), http.StatusFound)
	})
	_, err := newHarness(t).client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
	checkNoKey(t, "redirect loop", err)
	var ue *url.Error
	if !errors.As(err, &ue) || !strings.Contains(ue.URL, "[redacted]") {
		t.Errorf("no *url.Error with the URL redacted: %v", err)
	}
}

// A server that cuts the key it echoes and marks the cut ("sk_test_FAULTSE…
// is invalid"): the piece before the ellipsis is redacted wherever it is.
func TestRedactPieceBeforeAnEllipsis(t *testing.T) {
	for _, mark := range []string{"…", "...", `\u2026`} {
		srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("X-Request-Id", faultServerKey[:16]+"... (cut)")
			writeJSON(w, 401, `{"detail":"API key `+faultServerKey[:15]+mark+` is invalid","key":["`+faultPartnerKey[:12]+mark+`"]}`)
		})
		_, err := newHarness(t).client(srv.URL, nil).ListCustomersWithResponse(t.Context(), nil)
		checkNoKey(t, "cut with "+mark, err)
	}
}
