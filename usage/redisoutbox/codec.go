package redisoutbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/usage"
)

// A pair is named in Redis by its member string: the customer ID's length
// in decimal, ":", the customer ID, then the feature ID. It is the member
// of the schedule ZSETs and the tail of the pair's key names, and it
// decodes without ambiguity whatever bytes the IDs hold.
func pairMember(customerID, featureID string) string {
	return strconv.Itoa(len(customerID)) + ":" + customerID + featureID
}

// splitMember is the inverse of pairMember.
func splitMember(m string) (customerID, featureID string, err error) {
	i := strings.IndexByte(m, ':')
	if i <= 0 {
		return "", "", fmt.Errorf("redisoutbox: malformed pair %q in Redis", m)
	}
	n, err := strconv.Atoi(m[:i])
	if err != nil || n <= 0 || n > len(m)-i-1 {
		return "", "", fmt.Errorf("redisoutbox: malformed pair %q in Redis", m)
	}
	return m[i+1 : i+1+n], m[i+1+n:], nil
}

// A record is a list element: one flag byte ('1' marked in flight by Mark,
// '0' not), the record's ID in decimal, "|", StoredAt in Unix nanoseconds,
// "|", the behaviour ('D' or 'S') and the value in decimal. The scripts
// read the flag, the ID and StoredAt; the rest is only decoded here.
func recordBody(r usage.Report) string {
	b := "D"
	if r.Behaviour == api.ReportUsageRequestBehaviourSET {
		b = "S"
	}
	return b + strconv.Itoa(r.Value)
}

// decodeRecord decodes an element (with its flag when flagged) of the
// pair's list.
func decodeRecord(customerID, featureID, e string, flagged bool) (usage.Record, error) {
	var rec usage.Record
	bad := func() (usage.Record, error) {
		return usage.Record{}, fmt.Errorf("redisoutbox: malformed record %q in Redis", e)
	}
	s := e
	if flagged {
		if s == "" {
			return bad()
		}
		rec.Sending = s[0] == '1'
		s = s[1:]
	}
	id, rest, ok := strings.Cut(s, "|")
	at, body, ok2 := strings.Cut(rest, "|")
	if !ok || !ok2 || id == "" || len(body) < 2 {
		return bad()
	}
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return bad()
	}
	v, err := strconv.Atoi(body[1:])
	if err != nil {
		return bad()
	}
	rec.ID = id
	rec.Report = usage.Report{CustomerID: customerID, FeatureID: featureID, Value: v, StoredAt: time.Unix(0, ns)}
	switch body[0] {
	case 'D':
		rec.Report.Behaviour = api.ReportUsageRequestBehaviourDELTA
	case 'S':
		rec.Report.Behaviour = api.ReportUsageRequestBehaviourSET
	default:
		return bad()
	}
	return rec, nil
}

// deadMeta is what a dead letter keeps besides its report, as JSON.
type deadMeta struct {
	Reason string `json:"reason"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	At     int64  `json:"at"` // Unix nanoseconds
}

func encodeMeta(dl usage.DeadLetter) (string, error) {
	b, err := json.Marshal(deadMeta{Reason: dl.Reason, Status: dl.Status, Error: dl.Error, At: dl.At.UnixNano()})
	return string(b), err
}

// A dead letter is a hash value: the pair member's length, ":", the
// member, the meta's length, ":", the meta (JSON), then the record
// element without its flag.
func decodeDead(v string) (usage.DeadLetter, error) {
	bad := errors.New("redisoutbox: malformed dead letter in Redis")
	field := func(s string) (string, string, bool) {
		l, rest, ok := strings.Cut(s, ":")
		n, err := strconv.Atoi(l)
		if !ok || err != nil || n < 0 || n > len(rest) {
			return "", "", false
		}
		return rest[:n], rest[n:], true
	}
	m, rest, ok := field(v)
	if !ok {
		return usage.DeadLetter{}, bad
	}
	meta, rec, ok := field(rest)
	if !ok {
		return usage.DeadLetter{}, bad
	}
	c, f, err := splitMember(m)
	if err != nil {
		return usage.DeadLetter{}, err
	}
	r, err := decodeRecord(c, f, rec, false)
	if err != nil {
		return usage.DeadLetter{}, err
	}
	var dm deadMeta
	if err := json.Unmarshal([]byte(meta), &dm); err != nil {
		return usage.DeadLetter{}, fmt.Errorf("%w: %v", bad, err)
	}
	return usage.DeadLetter{ID: r.ID, Report: r.Report, Reason: dm.Reason, Status: dm.Status, Error: dm.Error, At: time.Unix(0, dm.At)}, nil
}
