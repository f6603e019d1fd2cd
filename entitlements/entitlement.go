package entitlements

import (
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/nullable"
)

// Entitlement is a customer's access to one feature: the aggregate of every
// entry kelviq returned for that feature (one per subscription or add-on
// granting it), combined as kelviq's own SDKs combine them.
//
// An Entitlement is the caller's own copy: changing it, its pointers or its
// Items changes nothing in the cache.
type Entitlement struct {
	// FeatureID is the feature's identifier, e.g. "advanced-analytics".
	FeatureID string
	// FeatureType is the type of the feature's first entry: "METER",
	// "CUSTOMIZABLE", "BOOLEAN" (kelviq's examples also show "FLAG"), as
	// kelviq sends it.
	FeatureType string
	// HasAccess is the customer's access to the feature. For a METER it is
	// true while Remaining is unknown or above zero; for any other type it is
	// true when any entry grants access.
	HasAccess bool
	// HardLimit reports, for a METER, whether any entry enforces its limit
	// (usage past it is refused rather than billed); for a CUSTOMIZABLE, the
	// first entry's value. False for other types.
	HardLimit bool
	// UsageLimit is, for a METER, the sum of the entries' limits and, for a
	// CUSTOMIZABLE, the first entry's value (a setting such as retention
	// days). nil when unknown: no entry has one, or another type.
	UsageLimit *int64
	// CurrentUsage is, for a METER, the sum of the entries' usage and, for a
	// CUSTOMIZABLE, the first entry's value. nil when unknown.
	CurrentUsage *int64
	// Remaining is, for a METER, UsageLimit − CurrentUsage when both are
	// known and, for a CUSTOMIZABLE, the first entry's value. nil when
	// unknown (for a METER: unlimited or not reported).
	Remaining *int64
	// Items are the raw entries kelviq returned for the feature, in the
	// order it sent them.
	Items []api.EntitlementDetail
	// FetchedAt is when the answer was fetched from kelviq (by this process
	// or, through the shared Store, by another).
	FetchedAt time.Time
	// Stale reports that kelviq could not be reached and this is the last
	// known value, younger than the feature's max-stale bound.
	Stale bool
}

// clone returns a deep copy of e, so that a caller cannot reach the cache's
// copy through a pointer or the Items slice.
func (e Entitlement) clone() Entitlement {
	e.UsageLimit = clonePtr(e.UsageLimit)
	e.CurrentUsage = clonePtr(e.CurrentUsage)
	e.Remaining = clonePtr(e.Remaining)
	if e.Items != nil {
		items := make([]api.EntitlementDetail, len(e.Items))
		for i, it := range e.Items {
			items[i] = it // the nullable counts are values: copied here
			items[i].FeatureID = clonePtr(it.FeatureID)
			items[i].FeatureType = clonePtr(it.FeatureType)
			items[i].HasAccess = clonePtr(it.HasAccess)
			items[i].ResetAt = clonePtr(it.ResetAt)
		}
		e.Items = items
	}
	return e
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// value returns n's value, or nil when it is null or absent.
func value(n nullable.Nullable[int64]) *int64 {
	if v, err := n.Get(); err == nil {
		return &v
	}
	return nil
}
