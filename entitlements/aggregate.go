package entitlements

import (
	"math"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// The feature types aggregation tells apart, as kelviq sends them (its SDKs
// compare them exactly, case included).
const (
	typeMeter        = "METER"
	typeCustomizable = "CUSTOMIZABLE"
)

// aggregate groups a customer's entitlement entries by feature and combines
// each group as kelviq's SDKs do (checked against @kelviq/node-sdk 2.6.0,
// dist/entitlements.js):
//
//   - the feature's type is its first entry's;
//   - METER: UsageLimit and CurrentUsage are the sums of the non-null
//     values (unknown when all are null), Remaining = UsageLimit −
//     CurrentUsage when both are known, HardLimit is true if any entry has
//     it, and HasAccess is true when Remaining is unknown or above zero (the
//     entries' own hasAccess and remaining are not consulted);
//   - CUSTOMIZABLE: the first entry's UsageLimit, CurrentUsage, Remaining
//     and HardLimit (a setting, not a quantity to add up); HasAccess is true
//     if any entry has access;
//   - any other type: HasAccess is true if any entry has access.
//
// Where the SDK reports a count of 0 for "unknown" (CurrentUsage of a
// CUSTOMIZABLE without one, of a BOOLEAN), the Entitlement leaves it nil.
// Entries without a featureId cannot be asked for and are left out.
func aggregate(entries []api.EntitlementDetail, fetchedAt time.Time) map[string]Entitlement {
	out := make(map[string]Entitlement)
	order := make([]string, 0, len(entries))
	groups := make(map[string][]api.EntitlementDetail)
	for _, e := range entries {
		if e.FeatureID == nil {
			continue
		}
		id := *e.FeatureID
		if _, seen := groups[id]; !seen {
			order = append(order, id)
		}
		groups[id] = append(groups[id], e)
	}
	for _, id := range order {
		items := groups[id]
		// Round(0) drops the monotonic reading: FetchedAt is a wall time.
		ent := Entitlement{FeatureID: id, Items: items, FetchedAt: fetchedAt.Round(0)}
		first := items[0]
		if first.FeatureType != nil {
			ent.FeatureType = *first.FeatureType
		}
		switch ent.FeatureType {
		case typeMeter:
			for _, it := range items {
				ent.UsageLimit = addKnown(ent.UsageLimit, value(it.UsageLimit))
				ent.CurrentUsage = addKnown(ent.CurrentUsage, value(it.CurrentUsage))
				if hard, err := it.HardLimit.Get(); err == nil && hard {
					ent.HardLimit = true
				}
			}
			if ent.UsageLimit != nil && ent.CurrentUsage != nil {
				r := subSat(*ent.UsageLimit, *ent.CurrentUsage)
				ent.Remaining = &r
			}
			ent.HasAccess = ent.Remaining == nil || *ent.Remaining > 0
		case typeCustomizable:
			ent.UsageLimit = value(first.UsageLimit)
			ent.CurrentUsage = value(first.CurrentUsage)
			ent.Remaining = value(first.Remaining)
			ent.HardLimit, _ = first.HardLimit.Get()
			ent.HasAccess = anyAccess(items)
		default:
			ent.HasAccess = anyAccess(items)
		}
		out[id] = ent
	}
	return out
}

func anyAccess(items []api.EntitlementDetail) bool {
	for _, it := range items {
		if it.HasAccess != nil && *it.HasAccess {
			return true
		}
	}
	return false
}

// addKnown adds v to sum, where nil is "no value yet": the sum of the
// non-null values, nil when there are none. It saturates instead of wrapping
// around: a sum past the int64 range stays at its bound.
func addKnown(sum, v *int64) *int64 {
	if v == nil {
		return sum
	}
	if sum == nil {
		return v
	}
	s := addSat(*sum, *v)
	return &s
}

func addSat(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

func subSat(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return addSat(a, -b)
}
