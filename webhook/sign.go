package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// sigSize is the length of a v1 signature in bytes: one SHA-256 sum.
const sigSize = sha256.Size

// Sign returns the headers kelviq would send with payload: [HeaderID] id,
// [HeaderTimestamp] ts in Unix seconds, and [HeaderSignature] "v1," followed by the hex
// HMAC-SHA256 of "{id}.{timestamp}.{payload}" keyed with secret as-is.
//
// It is meant for tests: send payload with these headers (plus a Content-Type of your
// choice) to a handler to exercise it like a real delivery. The timestamp must lie within
// the receiver's tolerance of its clock. Sign does not refuse an empty secret, but
// [Verify] does.
func Sign(payload []byte, id string, ts time.Time, secret string) http.Header {
	t := strconv.FormatInt(ts.Unix(), 10)
	sig := computeSignature([]byte(secret), id, t, payload)
	h := make(http.Header, 3)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, t)
	h.Set(HeaderSignature, signatureVersion+","+hex.EncodeToString(sig))
	return h
}

// computeSignature is the HMAC-SHA256 of "{id}.{timestamp}.{payload}" keyed with key.
// timestamp is the header's text as sent, not a re-formatted number.
func computeSignature(key []byte, id, timestamp string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(payload)
	return m.Sum(nil)
}
