package entitlements

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/nullable"
)

// answer is kelviq's answer to getCustomerEntitlements, read entry by
// entry: the entries that could be read, and why each feature whose entries
// could not was left out.
type answer struct {
	entries []api.EntitlementDetail
	// broken holds, by feature ID, why an entry of that feature could not
	// be read (a count of 10.5, a hasAccess of "yes"): the feature is
	// answered with that error, the customer's other features as usual.
	broken map[string]error
}

// decodeAnswer reads raw, an answer of kelviq (from the API or a record of
// the store) for customerID. The body is read by hand rather than by the
// generated model so that
//   - a count is an integer in any JSON spelling of one (10, 10.0, 1e1,
//     1E+1, -0: JSON has one number type, and kelviq's validator and SDKs
//     take them all), while a fraction or a value past int64 is an error
//     naming the entry and the field;
//   - one entry that cannot be read costs its feature, not every feature of
//     the customer.
//
// The whole answer is refused (an error wrapping kelviq.ErrUnexpectedResponse)
// when it is no answer at all: not a JSON object, JSON null (which decodes
// without an error into "no entitlements"), an entitlements that is absent,
// null or not a list, or an answer that names another customer than the one asked for (a
// proxy that caches by path alone, a record copied under the wrong key):
// using it would give one customer another's entitlements. An answer that
// names no customer is taken as is (the spec does not require the field).
func decodeAnswer(raw []byte, customerID string) (*answer, error) {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: getCustomerEntitlements for customer %q "+format, append([]any{kelviq.ErrUnexpectedResponse, customerID}, args...)...)
	}
	trimmed := bytes.TrimSpace(raw)
	if bytes.Equal(trimmed, []byte("null")) {
		return nil, refuse("answered JSON null")
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, refuse("answered something that is not a JSON object")
	}
	// One pass splits the list into its entries, one more reads each: a
	// body is scanned twice, whatever its size.
	var top struct {
		CustomerID   *string   `json:"customerId"`
		Entitlements entryList `json:"entitlements"`
	}
	if err := json.Unmarshal(trimmed, &top); err != nil {
		// The decoder's text is not quoted: it may quote the body, where
		// a hostile server can echo the key.
		return nil, refuse("answered a body that does not decode (%s)", jsonErrorKind(err))
	}
	if !top.Entitlements.present {
		// {} or "entitlements": null (a gateway's empty answer) is no
		// answer: read as an empty list, it would deny every feature as
		// "not in the plan" for the TTL, in every instance through the
		// store.
		return nil, refuse("answered without an entitlements list")
	}
	if top.CustomerID != nil && *top.CustomerID != customerID {
		// The customer it names is not quoted either, for the same reason.
		return nil, refuse("answered for another customer")
	}
	ans := &answer{}
	items := top.Entitlements.items
	ans.entries = make([]api.EntitlementDetail, 0, len(items))
	for i, item := range items {
		d, id, err := decodeEntry(item)
		switch {
		case err == nil:
			ans.entries = append(ans.entries, d)
		case id != nil:
			if ans.broken == nil {
				ans.broken = make(map[string]error)
			}
			if len(ans.broken) >= maxBrokenFeatures {
				// Not kelviq's answer with a bad entry but something else
				// (and each error costs memory the body did not).
				return nil, refuse("answered more than %d features whose entries do not decode", maxBrokenFeatures)
			}
			if _, seen := ans.broken[*id]; !seen {
				ans.broken[*id] = fmt.Errorf("%w: getCustomerEntitlements for customer %q: entitlements[%d]%w", kelviq.ErrUnexpectedResponse, customerID, i, err)
			}
		}
		// An entry whose feature cannot even be named is left out, as one
		// without a featureId is: no check can ask for it.
	}
	if ans.broken != nil {
		// The feature's other entries go too: aggregated without the bad
		// one, they could grant what the whole would not (a METER whose
		// unreadable entry holds the usage).
		ans.entries = slices.DeleteFunc(ans.entries, func(d api.EntitlementDetail) bool {
			return d.FeatureID != nil && ans.broken[*d.FeatureID] != nil
		})
	}
	return ans, nil
}

// entryList is the entitlements list of an answer, split into its entries;
// present is false when the answer has none or null in its place.
type entryList struct {
	items   []json.RawMessage
	present bool
}

func (l *entryList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	l.present = true
	return json.Unmarshal(b, &l.items)
}

// maxBrokenFeatures bounds the features one answer may have unreadable
// entries for before the whole answer is refused.
const maxBrokenFeatures = 1024

// rawEntry is an EntitlementDetail with its counts left raw, to be read as
// integers by integral.
type rawEntry struct {
	FeatureID    *string                 `json:"featureId"`
	FeatureType  *string                 `json:"featureType"`
	HasAccess    *bool                   `json:"hasAccess"`
	HardLimit    nullable.Nullable[bool] `json:"hardLimit"`
	ResetAt      *string                 `json:"resetAt"`
	UsageLimit   json.RawMessage         `json:"usageLimit"`
	CurrentUsage json.RawMessage         `json:"currentUsage"`
	Remaining    json.RawMessage         `json:"remaining"`
}

// decodeEntry reads one entry. On an error, id is the entry's feature when
// that much could be read; the error's text starts with the field (".usageLimit: …").
func decodeEntry(item json.RawMessage) (d api.EntitlementDetail, id *string, err error) {
	var e rawEntry
	if err := json.Unmarshal(item, &e); err != nil {
		var named struct {
			FeatureID *string `json:"featureId"`
		}
		if json.Unmarshal(item, &named) == nil && named.FeatureID != nil {
			id = named.FeatureID
		}
		field := ""
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			field = "." + typeErr.Field
		}
		return d, id, fmt.Errorf("%s: does not decode (%s)", field, jsonErrorKind(err))
	}
	d = api.EntitlementDetail{FeatureID: e.FeatureID, FeatureType: e.FeatureType, HasAccess: e.HasAccess, HardLimit: e.HardLimit, ResetAt: e.ResetAt}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *nullable.Nullable[int64]
	}{
		{"usageLimit", e.UsageLimit, &d.UsageLimit},
		{"currentUsage", e.CurrentUsage, &d.CurrentUsage},
		{"remaining", e.Remaining, &d.Remaining},
	} {
		switch {
		case len(f.raw) == 0: // absent: unspecified
		case string(f.raw) == "null":
			f.dst.SetNull()
		default:
			n, err := integral(f.raw)
			if err != nil {
				return api.EntitlementDetail{}, e.FeatureID, fmt.Errorf(".%s: %w", f.name, err)
			}
			f.dst.Set(n)
		}
	}
	return d, nil, nil
}

// maxQuotedNumber bounds the number literal an error quotes.
const maxQuotedNumber = 40

// integral reads a JSON value as an int64: a number whose value is a whole
// number in range, in any spelling (10, 10.0, 1e1, 1E+1, 100e-1, -0). A
// fraction, a value out of range, or anything but a number is an error.
// The literal's size does not matter: the digits are never expanded by the
// exponent past what an int64 can hold (1e999999999 costs nothing).
func integral(lit json.RawMessage) (int64, error) {
	s := string(lit)
	quoted := s
	if len(quoted) > maxQuotedNumber {
		quoted = quoted[:maxQuotedNumber] + "…"
	}
	neg := false
	rest := s
	if rest != "" && rest[0] == '-' {
		neg, rest = true, rest[1:]
	}
	intPart, frac, exp := rest, "", "0"
	if i := strings.IndexAny(intPart, "eE"); i >= 0 {
		intPart, exp = intPart[:i], intPart[i+1:]
	}
	if i := strings.IndexByte(intPart, '.'); i >= 0 {
		intPart, frac = intPart[:i], intPart[i+1:]
	}
	if intPart == "" || !digits(intPart) || !digits(frac) || !validExponent(exp) {
		// Not a number: a string ("10"), a bool, an object. (A string is
		// not quoted: a server's text may hold anything.)
		return 0, errors.New("is not a number")
	}
	// The value is mant × 10^(e − len(frac)), mant the digits without
	// leading zeros and e the exponent.
	mant := trimLeftZeros(intPart + frac)
	if mant == "" {
		return 0, nil // 0, -0, 0.0, 0e5
	}
	shift, expOK := exponent(exp)
	trailing := len(mant) - len(trimRightZeros(mant))
	mant = trimRightZeros(mant)
	if !expOK {
		// An exponent past any int: a huge value, or a tiny fraction.
		if exp[0] == '-' {
			return 0, fmt.Errorf("%s is not a whole number", quoted)
		}
		return 0, fmt.Errorf("%s is out of range", quoted)
	}
	scale := shift - int64(len(frac)) + int64(trailing)
	if scale < 0 {
		return 0, fmt.Errorf("%s is not a whole number", quoted)
	}
	if int64(len(mant))+scale > 19 {
		return 0, fmt.Errorf("%s is out of range", quoted)
	}
	text := mant
	for range scale {
		text += "0"
	}
	if neg {
		text = "-" + text
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is out of range", quoted)
	}
	return n, nil
}

// exponent parses a JSON exponent ("5", "+5", "-05"), reporting false past
// ±10^9 (far beyond anything an int64 holds).
func exponent(exp string) (int64, bool) {
	neg := false
	switch exp[0] {
	case '-':
		neg, exp = true, exp[1:]
	case '+':
		exp = exp[1:]
	}
	exp = trimLeftZeros(exp)
	if len(exp) > 9 {
		return 0, false
	}
	n := int64(0)
	for i := 0; i < len(exp); i++ {
		n = n*10 + int64(exp[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func validExponent(exp string) bool {
	if exp != "" && (exp[0] == '+' || exp[0] == '-') {
		exp = exp[1:]
	}
	return exp != "" && digits(exp)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimLeftZeros(s string) string {
	for s != "" && s[0] == '0' {
		s = s[1:]
	}
	return s
}

func trimRightZeros(s string) string {
	for s != "" && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

// jsonErrorKind names what went wrong in a JSON decode without quoting the
// input: encoding/json's texts quote values of the body.
func jsonErrorKind(err error) string {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return "not valid JSON at offset " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typeErr):
		where := typeErr.Field
		if where == "" {
			where = "a value"
		}
		return where + ": a JSON " + typeErr.Value + " where " + typeErr.Type.String() + " was expected"
	}
	return "not the declared shape"
}
