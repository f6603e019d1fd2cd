package webhook

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a kelviq webhook delivery. [http.Header] lookups are case-insensitive
// in this package, so any spelling of these names is found.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// signatureVersion is the only signature scheme kelviq documents. Signatures of other
// versions in webhook-signature are ignored, so a future scheme can be added alongside.
const signatureVersion = "v1"

// Verify checks that payload and header form a genuine kelviq delivery signed with secret
// (or with one of the secrets of [WithSecrets]) and, only then, parses payload into an
// [Event].
//
// payload must be the request body exactly as received. Verify requires the three
// headers [HeaderID], [HeaderTimestamp] and [HeaderSignature]; a timestamp no further than
// the tolerance (default [DefaultTolerance]) from the current time, in either direction;
// and at least one "v1," signature among the space-separated ones of webhook-signature
// that equals the HMAC-SHA256 of "{id}.{timestamp}.{payload}" keyed with a secret, compared
// in constant time. The secret is used as-is (its bytes are the key).
//
// Errors wrap [ErrNoSecret], [ErrMissingHeader], [ErrMalformedHeader],
// [ErrInvalidTimestamp], [ErrTimestampTooOld], [ErrTimestampTooNew],
// [ErrNoMatchingSignature] or [ErrInvalidPayload]. They never contain a secret.
//
// Verify does not detect a delivery it has already seen; [NewHandler] does.
func Verify(payload []byte, header http.Header, secret string, opts ...Option) (*Event, error) {
	var cfg verifyConfig
	cfg.apply(opts)
	cfg.withDefaults(secret)
	d, err := cfg.verify(payload, header)
	if err != nil {
		return nil, err
	}
	return parseEvent(payload, d)
}

// delivery is what the headers of a verified delivery say.
type delivery struct {
	id        string
	timestamp time.Time
}

func (c *verifyConfig) verify(payload []byte, header http.Header) (delivery, error) {
	keys := make([][]byte, 0, len(c.secrets))
	for _, s := range c.secrets {
		if s != "" {
			keys = append(keys, []byte(s))
		}
	}
	if len(keys) == 0 {
		return delivery{}, ErrNoSecret
	}

	id, err := singleHeader(header, HeaderID)
	if err != nil {
		return delivery{}, err
	}
	ts, err := singleHeader(header, HeaderTimestamp)
	if err != nil {
		return delivery{}, err
	}
	sigs := headerValues(header, HeaderSignature)
	if len(sigs) == 0 {
		return delivery{}, fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSignature)
	}

	signedAt, err := parseTimestamp(ts)
	if err != nil {
		return delivery{}, err
	}
	if err := checkTolerance(signedAt, c.now(), c.tolerance); err != nil {
		return delivery{}, err
	}

	candidates := parseSignatures(sigs)
	if len(candidates) == 0 {
		return delivery{}, fmt.Errorf("%w: %s carries no %s signature of 64 hex digits",
			ErrMalformedHeader, HeaderSignature, signatureVersion)
	}
	matched := false
	for _, key := range keys {
		want := computeSignature(key, id, ts, payload)
		for _, got := range candidates {
			if hmac.Equal(got, want) {
				matched = true
			}
		}
	}
	if !matched {
		return delivery{}, ErrNoMatchingSignature
	}
	return delivery{id: id, timestamp: signedAt}, nil
}

// headerValues returns the non-empty values of every field of h whose name equals name
// without regard to case: a header built by hand, or converted from a serverless event,
// need not use Go's canonical spelling.
func headerValues(h http.Header, name string) []string {
	var out []string
	for k, vs := range h {
		if !strings.EqualFold(k, name) {
			continue
		}
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// singleHeader returns the value of a header that must be given once. Repeating it with
// the same value is tolerated (proxies do that); two different values are ambiguous and
// rejected, since the receiver and an intermediary could each pick a different one.
func singleHeader(h http.Header, name string) (string, error) {
	vs := headerValues(h, name)
	if len(vs) == 0 {
		return "", fmt.Errorf("%w: %s", ErrMissingHeader, name)
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", fmt.Errorf("%w: %s given %d times with different values", ErrMalformedHeader, name, len(vs))
		}
	}
	return vs[0], nil
}

// parseTimestamp accepts decimal digits only: no sign, no fraction, no exponent. The
// string is signed as received, so a lenient parse would only make the check ambiguous.
// A time after the year 9999 is reported as too new.
func parseTimestamp(s string) (time.Time, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, fmt.Errorf("%w: %s is not decimal Unix seconds", ErrInvalidTimestamp, HeaderTimestamp)
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s is out of range", ErrInvalidTimestamp, HeaderTimestamp)
	}
	if sec > maxUnix {
		// time.Unix would wrap around for the largest int64 values.
		return time.Time{}, fmt.Errorf("%w: signed at %d, after the year 9999", ErrTimestampTooNew, sec)
	}
	return time.Unix(sec, 0), nil
}

// maxUnix is 9999-12-31T23:59:59Z, far beyond any tolerance of any real clock.
const maxUnix = 253402300799

func checkTolerance(signedAt, now time.Time, tolerance time.Duration) error {
	// Sub saturates at the extremes of time.Duration, so compare instead of negating.
	age := now.Sub(signedAt)
	switch {
	case age > tolerance:
		return fmt.Errorf("%w: signed at %d, %s before now (tolerance %s)",
			ErrTimestampTooOld, signedAt.Unix(), age.Truncate(time.Second), tolerance)
	case age < -tolerance:
		return fmt.Errorf("%w: signed at %d, %s after now (tolerance %s)",
			ErrTimestampTooNew, signedAt.Unix(), (-age).Truncate(time.Second), tolerance)
	}
	return nil
}

// parseSignatures returns the decoded v1 signatures of the webhook-signature values.
// Each value holds space-separated "<version>,<signature>" entries. Entries of another
// version, and v1 entries that are not 64 hex digits, are skipped.
func parseSignatures(values []string) [][]byte {
	var out [][]byte
	for _, v := range values {
		for _, entry := range strings.Fields(v) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != signatureVersion || len(sig) != hex.EncodedLen(sigSize) {
				continue
			}
			b, err := hex.DecodeString(sig)
			if err != nil {
				continue
			}
			out = append(out, b)
		}
	}
	return out
}
