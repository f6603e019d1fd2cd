package kelviqtest

import (
	"fmt"
	"maps"
	"math"
	"net/http"
)

// reportUsage records usage of a customer's feature: SET replaces the
// current usage, DELTA adds to it (a negative DELTA takes away). The
// entitlement of that feature, if seeded, shows the new usage. Usage that
// would be negative or beyond int32 (the spec's currentUsage) is 400.
func (st *store) reportUsage(c *call) reply {
	cust, _ := c.body["customerId"].(string)
	feature, _ := c.body["featureId"].(string)
	behaviour, _ := c.body["behaviour"].(string)
	value, _ := c.body["value"].(float64)
	k := entKey{cust, feature}
	st.mu.Lock()
	defer st.mu.Unlock()
	usage := value
	if behaviour == "DELTA" {
		usage += float64(st.usage[k])
	}
	if usage < 0 || usage > math.MaxInt32 {
		return fieldError("value", fmt.Sprintf("the usage of %s would be %.0f, outside 0 to %d.", feature, usage, math.MaxInt32))
	}
	keep := true
	if _, known := st.usage[k]; !known {
		if _, seeded := st.entitlements[k]; !seeded {
			// Only pairs without a seeded entitlement are dropped: the
			// seed bounds the others.
			keep = !st.tooLarge(usagePairSize(k), func(d *Counts) { d.UsagePairs++ })
			if keep {
				st.usageOrder.push(k, usagePairSize(k))
			}
		}
	}
	if keep {
		st.usage[k] = int64(usage)
		st.trim()
	}
	n := st.next()
	return reply{http.StatusOK, map[string]any{
		"value":          value,
		"customerId":     cust,
		"featureId":      feature,
		"behaviour":      behaviour,
		"orgId":          "1",
		"eventName":      "aggregated.usage",
		"idempotencyKey": fmt.Sprintf("%032x", n),
		"timestamp":      c.now.UTC().Format("2006-01-02 15:04:05.000000"),
	}}
}

// entitlementsOf answers a customer's entitlements, in seed order, or the
// one of feature_id. A customer or feature without entitlements has an
// empty list.
func (st *store) entitlementsOf(c *call) reply {
	cust := c.query.Get("customer_id")
	feature, filter := c.query["feature_id"]
	st.mu.Lock()
	defer st.mu.Unlock()
	list := []any{}
	for _, f := range st.features[cust] {
		if filter && f != feature[0] {
			continue
		}
		k := entKey{cust, f}
		list = append(list, entitlement(st.entitlements[k], st.usage[k]))
	}
	return reply{http.StatusOK, map[string]any{"customerId": cust, "entitlements": list}}
}

// entitlement is a seeded entitlement with its usage applied. A METER (or
// any entitlement with a usageLimit) shows currentUsage and remaining; with
// hardLimit true it loses access once its usage reaches the limit.
func entitlement(def map[string]any, usage int64) map[string]any {
	out := maps.Clone(def)
	if _, ok := out["hasAccess"]; !ok {
		out["hasAccess"] = true
	}
	limit, hasLimit := def["usageLimit"].(float64)
	if def["featureType"] != "METER" && !hasLimit {
		return out
	}
	out["currentUsage"] = float64(usage)
	if hasLimit {
		out["remaining"] = math.Max(limit-float64(usage), 0)
		if def["hardLimit"] == true && float64(usage) >= limit {
			out["hasAccess"] = false
		}
	}
	return out
}
