package kelviq

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

// redacted replaces a key wherever the client would otherwise show it.
const redacted = "[redacted]"

// minFragment is the shortest piece of a key, left at the end of a text by a
// cap (ours or the server's), that is redacted as if it were the key.
const minFragment = 8

// redactor removes the client's keys from what a server says before any of
// it leaves the client (an *Error's Body, Message, FieldErrors and
// RequestID, a Content-Type in an error, a logged error). It finds a key
// written as is, JSON-escaped in any way (each character as itself,
// "\u00XX" in either case, or "\/") or percent-encoded (an ASCII character
// as %XX, as in a URL the server built), and a piece of a key of
// minFragment characters or more that a cut leaves: at the end of the
// text, or before an ellipsis (a server's own cut). Not other encodings
// (base64, upper-cased, reversed…): there is no end to those, and a server
// echoes a key by quoting it, in a text, a JSON string or a URL. Redact before cutting:
// a key cut in half is no longer a key. A nil *redactor redacts nothing.
type redactor struct {
	keys []string
}

// newRedactor returns a redactor of the non-empty keys, or nil if none.
func newRedactor(keys ...string) *redactor {
	r := &redactor{}
	for _, k := range keys {
		if k != "" {
			r.keys = append(r.keys, k)
		}
	}
	if len(r.keys) == 0 {
		return nil
	}
	return r
}

// bytes returns b with every key redacted; b itself when there is none.
func (r *redactor) bytes(b []byte) []byte {
	if r == nil {
		return b
	}
	var out []byte // nil until the first key is found
	last := 0      // b[:last] is in out
	for i := 0; i < len(b); {
		end := match(r, b, i)
		if end < 0 {
			i++
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b))
		}
		out = append(out, b[last:i]...)
		out = append(out, redacted...)
		i, last = end, end
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// string is bytes for a string.
func (r *redactor) string(s string) string {
	if r == nil || s == "" {
		return s
	}
	b := r.bytes([]byte(s))
	return string(b)
}

// text returns s redacted, cleaned and capped at max bytes (see clean),
// redacting again what the cut leaves at the end.
func (r *redactor) text(s string, max int) string {
	s = clean(r.string(s), max)
	if r == nil {
		return s
	}
	if cut, ok := strings.CutSuffix(s, "…"); ok {
		return r.string(cut) + "…"
	}
	return s
}

// match returns the end of the key (or the trailing piece of one) that
// starts at b[i], or -1.
func match[T ~string | ~[]byte](r *redactor, b T, i int) int {
	for _, k := range r.keys {
		if end, n := matchKey(b, i, k); end >= 0 && (n == len(k) || n >= minFragment) {
			return end
		}
	}
	return -1
}

// found reports whether s holds a key, or ends in a piece of one; it
// allocates nothing.
func (r *redactor) found(s string) bool {
	if r == nil {
		return false
	}
	for i := range len(s) {
		if match(r, s, i) >= 0 {
			return true
		}
	}
	return false
}

// matchKey matches key at b[i], each character written as itself or
// JSON-escaped. It returns the end of the match and how many bytes of key
// it covers: all of them, or, when b ends first, the matched part (end is
// then len(b)); -1 when b[i:] does not start with key or a piece of it.
func matchKey[T ~string | ~[]byte](b T, i int, key string) (end, n int) {
	j := i
	for k := 0; k < len(key); {
		if j >= len(b) {
			return j, k // b ends inside the key
		}
		c, size := utf8.DecodeRuneInString(key[k:])
		lit := 0 // bytes of c written as itself
		for lit < size && j+lit < len(b) && b[j+lit] == key[k+lit] {
			lit++
		}
		switch {
		case lit == size:
			j, k = j+size, k+size
			continue
		case j+lit == len(b) && lit > 0:
			return len(b), k // b ends inside the character
		case b[j] == '%' && c < utf8.RuneSelf:
			// Percent-encoded, as in a URL the server built with the key
			// in it: "/" and "+" in a key come out as %2F and %2B.
			if j+3 > len(b) {
				if hexPrefixOf(b[j+1:], c<<8) {
					return len(b), k
				}
				return -1, 0
			}
			if v, ok := hex4(b[j+1 : j+3]); !ok || v != c {
				return -1, 0
			}
			j, k = j+3, k+size
			continue
		case b[j] != '\\':
			return cutShort(b, j, k)
		}
		// An escape: "\/", or "\uXXXX" naming c.
		switch {
		case j+1 >= len(b):
			return len(b), k // cut inside the escape
		case b[j+1] == '/' && c == '/':
			j, k = j+2, k+size
			continue
		case b[j+1] != 'u':
			return -1, 0
		}
		if j+6 > len(b) {
			if hexPrefixOf(b[j+2:], c) {
				return len(b), k
			}
			return -1, 0
		}
		if v, ok := hex4(b[j+2 : j+6]); !ok || v != c {
			return cutShort(b, j, k)
		}
		j, k = j+6, k+size
	}
	return j, len(key)
}

// cutShort is matchKey's answer where b stops matching key at b[j], after
// k bytes of it: that piece of the key when an ellipsis follows ("...",
// "…" or its JSON escape), the way a server marks its own cut of an
// echoed key ("Invalid key sk_test_0a1b…"); else no match.
func cutShort[T ~string | ~[]byte](b T, j, k int) (end, n int) {
	if k == 0 || j+3 > len(b) {
		return -1, 0
	}
	switch {
	case b[j] == '.' && b[j+1] == '.' && b[j+2] == '.',
		b[j] == 0xE2 && b[j+1] == 0x80 && b[j+2] == 0xA6: // "…"
		return j, k
	case j+6 <= len(b) && b[j] == '\\' && b[j+1] == 'u':
		if v, ok := hex4(b[j+2 : j+6]); ok && v == '…' {
			return j, k
		}
	}
	return -1, 0
}

// hex4 reads four hex digits.
func hex4[T ~string | ~[]byte](h T) (rune, bool) {
	var v rune
	for i := range len(h) {
		d := h[i]
		switch {
		case d >= '0' && d <= '9':
			v = v<<4 | rune(d-'0')
		case d >= 'a' && d <= 'f':
			v = v<<4 | rune(d-'a'+10)
		case d >= 'A' && d <= 'F':
			v = v<<4 | rune(d-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// hexPrefixOf reports whether h (fewer than four digits) starts the
// four-digit hex of c.
func hexPrefixOf[T ~string | ~[]byte](h T, c rune) bool {
	const digits = "0123456789abcdef"
	for i := range len(h) {
		d := h[i]
		want := digits[(c>>(12-4*i))&0xf]
		if d != want && d != want-'a'+'A' {
			return false
		}
	}
	return true
}

// hide returns err with its text redacted when it holds a key: net/http
// quotes what a server sent in some errors (a malformed header line, a
// redirect's Location), and a caller reaches the *url.Error inside a
// call's error with errors.As and prints it. The *url.Error is kept
// (errors.As still finds it) with its URL redacted and, when it holds a
// key, its Err replaced: errors.Is still reaches what that wrapped
// (context.Canceled, io.ErrUnexpectedEOF), errors.As no longer does, as
// that would hand back the text with the key. err itself when it holds no
// key, which is every error but a hostile server's.
func (r *redactor) hide(err error) error {
	if r == nil || err == nil || !r.found(err.Error()) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL of a redirect hop is the server's Location.
		ue.URL = r.string(ue.URL)
		if ue.Err != nil && r.found(ue.Err.Error()) {
			ue.Err = &redactedError{text: r.string(ue.Err.Error()), err: ue.Err}
		}
		if !r.found(err.Error()) {
			return err
		}
	}
	return &redactedError{text: r.string(err.Error()), err: err}
}

// redactedError is an error whose text held a key: the text redacted, and
// errors.Is answered by the original.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }

// Is reports whether the original error matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// Timeout reports whether the original error is a timeout, as net.Error
// and *url.Error ask.
func (e *redactedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}
