package usage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/kelviq/kelviq-go/api"
)

// Report is one usage report as it was given to Reporter.Report. The
// WithOnDropped callback receives it.
type Report struct {
	// CustomerID and FeatureID name what the usage is for.
	CustomerID string
	FeatureID  string
	// Value is the reported value: added under DELTA, the new value under SET.
	Value int
	// Behaviour is api.ReportUsageRequestBehaviourDELTA or …SET.
	Behaviour api.ReportUsageRequestBehaviour
	// StoredAt is when the report was stored, by the storing process's clock.
	StoredAt time.Time
}

// maxIDBytes bounds a customer or feature ID, so that a careless caller
// cannot fill the outbox with one report, and a key stays far below
// bbolt's 32 KiB key limit.
const maxIDBytes = 1024

// ErrInvalidReport is wrapped by every error Report returns for bad input;
// the error text says which argument was wrong. Nothing was stored.
var ErrInvalidReport = errors.New("usage: invalid report")

// validate checks a report before anything is stored.
func validate(customerID, featureID string, value int, b api.ReportUsageRequestBehaviour) error {
	for _, id := range []struct{ name, v string }{{"customerID", customerID}, {"featureID", featureID}} {
		switch {
		case id.v == "":
			return fmt.Errorf("%w: %s is empty", ErrInvalidReport, id.name)
		case len(id.v) > maxIDBytes:
			return fmt.Errorf("%w: %s is %d bytes long (at most %d)", ErrInvalidReport, id.name, len(id.v), maxIDBytes)
		case !utf8.ValidString(id.v):
			// encoding/json would send U+FFFD instead: another ID.
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidReport, id.name)
		}
	}
	switch b {
	case api.ReportUsageRequestBehaviourDELTA:
	case api.ReportUsageRequestBehaviourSET:
		if value < 0 {
			return fmt.Errorf("%w: value %d is negative: a SET sets the usage, which cannot be negative", ErrInvalidReport, value)
		}
	default:
		return fmt.Errorf("%w: behaviour %q is unknown (want %q or %q)", ErrInvalidReport, string(b),
			api.ReportUsageRequestBehaviourDELTA, api.ReportUsageRequestBehaviourSET)
	}
	return nil
}

// A pair key identifies a (customer, feature): uvarint(len(customer)),
// customer, uvarint(len(feature)), feature.
func pairKey(customerID, featureID string) string {
	b := make([]byte, 0, 2*binary.MaxVarintLen16+len(customerID)+len(featureID))
	b = binary.AppendUvarint(b, uint64(len(customerID)))
	b = append(b, customerID...)
	b = binary.AppendUvarint(b, uint64(len(featureID)))
	b = append(b, featureID...)
	return string(b)
}

// splitPairKey returns the IDs of a pair key; ok is false on a malformed one.
func splitPairKey(k string) (customerID, featureID string, ok bool) {
	n, w := binary.Uvarint([]byte(k))
	if w <= 0 || uint64(len(k)-w) < n {
		return "", "", false
	}
	customerID, k = k[w:w+int(n)], k[w+int(n):]
	n, w = binary.Uvarint([]byte(k))
	if w <= 0 || uint64(len(k)-w) != n {
		return "", "", false
	}
	return customerID, k[w:], true
}

// seqKey is a record's key in the outbox: its sequence number, 8 bytes
// big-endian. Every commit appends at the end of the B+tree, so it
// writes few pages whatever the number of (customer, feature) pairs.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

// record is a stored report.
type record struct {
	seq      uint64
	pair     string
	value    int64
	set      bool
	storedAt int64 // Unix nanoseconds
}

// recordVersion is the first byte of an encoded record, so that a later
// format can be told apart.
const recordVersion = 1

// encode returns the stored form of r: version, behaviour, the pair key
// (length first), varint value, varint time.
func (r record) encode() []byte {
	b := make([]byte, 0, 2+binary.MaxVarintLen16+len(r.pair)+2*binary.MaxVarintLen64)
	b = append(b, recordVersion, 0)
	if r.set {
		b[1] = 1
	}
	b = binary.AppendUvarint(b, uint64(len(r.pair)))
	b = append(b, r.pair...)
	b = binary.AppendVarint(b, r.value)
	return binary.AppendVarint(b, r.storedAt)
}

// errCorrupt marks a stored record that cannot be read.
var errCorrupt = errors.New("usage: corrupt record in the outbox")

// errNewerFormat marks a record written by a later version of this
// package: after a rollback of a deploy, say. It is left where it is for
// that version to send; moved to the dead letters, it would never be.
var errNewerFormat = errors.New("usage: record of a newer format in the outbox")

// decodeRecord reads the record stored under key.
func decodeRecord(key, v []byte) (record, error) {
	if len(key) != 8 {
		return record{}, fmt.Errorf("%w: key of %d bytes", errCorrupt, len(key))
	}
	r := record{seq: binary.BigEndian.Uint64(key)}
	if len(v) > 0 && v[0] > recordVersion && v[0] < 0x80 {
		// (A version byte ≥ 0x80 is taken as damage: versions will not
		// go that far.)
		return r, fmt.Errorf("%w: version %d, this version reads %d", errNewerFormat, v[0], recordVersion)
	}
	if len(v) < 2 || v[0] != recordVersion || v[1] > 1 {
		return r, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	r.set = v[1] == 1
	v = v[2:]
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return r, fmt.Errorf("%w: bad pair", errCorrupt)
	}
	r.pair, v = string(v[w:w+int(n)]), v[w+int(n):]
	if _, _, ok := splitPairKey(r.pair); !ok {
		return r, fmt.Errorf("%w: bad pair", errCorrupt)
	}
	if r.value, w = binary.Varint(v); w <= 0 {
		return r, fmt.Errorf("%w: bad value", errCorrupt)
	}
	v = v[w:]
	if r.storedAt, w = binary.Varint(v); w <= 0 || w != len(v) {
		return r, fmt.Errorf("%w: bad time", errCorrupt)
	}
	return r, nil
}

// report returns the Report r stands for.
func (r record) report() Report {
	c, f, _ := splitPairKey(r.pair)
	b := api.ReportUsageRequestBehaviourDELTA
	if r.set {
		b = api.ReportUsageRequestBehaviourSET
	}
	return Report{CustomerID: c, FeatureID: f, Value: int(r.value), Behaviour: b, StoredAt: time.Unix(0, r.storedAt)}
}

// recordOf returns the stored form of a validated report.
func recordOf(r Report) record {
	return record{
		pair:     pairKey(r.CustomerID, r.FeatureID),
		value:    int64(r.Value),
		set:      r.Behaviour == api.ReportUsageRequestBehaviourSET,
		storedAt: r.StoredAt.UnixNano(),
	}
}
