package entitlements_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
)

// want is the aggregate expected for one feature; nil counts are unknown.
type want struct {
	typ                     string
	access, hard            bool
	limit, usage, remaining *int64
	items                   int
}

func n(v int64) *int64 { return &v }

func fmtCount(p *int64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatInt(*p, 10)
}

// Every aggregation rule of kelviq's SDKs (@kelviq/node-sdk 2.6.0,
// aggregateEntitlements), through the whole path: JSON on the wire, the
// generated decoder, the Checker.
func TestAggregationRules(t *testing.T) {
	meter := func(access bool, hard, limit, usage, remaining string) string {
		return fmt.Sprintf(`{"featureId":"m","featureType":"METER","hasAccess":%v,"hardLimit":%s,"usageLimit":%s,"currentUsage":%s,"remaining":%s}`, access, hard, limit, usage, remaining)
	}
	tests := []struct {
		name    string
		entries string
		want    map[string]want
	}{
		{"METER sums limits and usage, remaining is their difference",
			`[` + meter(true, "false", "10", "4", "6") + `,` + meter(true, "false", "5", "3", "2") + `]`,
			map[string]want{"m": {typ: "METER", access: true, limit: n(15), usage: n(7), remaining: n(8), items: 2}}},
		{"METER with every limit null: unknown limit and remaining, access",
			`[` + meter(true, "null", "null", "4", "null") + `,` + meter(true, "null", "null", "9", "null") + `]`,
			map[string]want{"m": {typ: "METER", access: true, usage: n(13), items: 2}}},
		{"METER with every usage null: unknown usage and remaining, access",
			`[` + meter(true, "false", "10", "null", "null") + `]`,
			map[string]want{"m": {typ: "METER", access: true, limit: n(10), items: 1}}},
		{"METER sums only the non-null values",
			`[` + meter(true, "false", "10", "null", "null") + `,` + meter(true, "false", "null", "3", "null") + `]`,
			map[string]want{"m": {typ: "METER", access: true, limit: n(10), usage: n(3), remaining: n(7), items: 2}}},
		{"METER exhausted: no access although the entry says so",
			`[` + meter(true, "false", "10", "10", "5") + `]`,
			map[string]want{"m": {typ: "METER", access: false, limit: n(10), usage: n(10), remaining: n(0), items: 1}}},
		{"METER over its limit: negative remaining, no access",
			`[` + meter(true, "true", "10", "12", "0") + `]`,
			map[string]want{"m": {typ: "METER", access: false, hard: true, limit: n(10), usage: n(12), remaining: n(-2), items: 1}}},
		{"METER with remaining left: access although the entry denies it",
			`[` + meter(false, "false", "10", "1", "9") + `]`,
			map[string]want{"m": {typ: "METER", access: true, limit: n(10), usage: n(1), remaining: n(9), items: 1}}},
		{"METER hardLimit is true when any entry has it",
			`[` + meter(true, "false", "1", "0", "1") + `,` + meter(true, "true", "1", "0", "1") + `,` + meter(true, "null", "1", "0", "1") + `]`,
			map[string]want{"m": {typ: "METER", access: true, hard: true, limit: n(3), usage: n(0), remaining: n(3), items: 3}}},
		{"METER counts past int32 decode (widened to int64)",
			`[` + meter(true, "false", "5000000000", "3000000000", "2000000000") + `]`,
			map[string]want{"m": {typ: "METER", access: true, limit: n(5_000_000_000), usage: n(3_000_000_000), remaining: n(2_000_000_000), items: 1}}},
		{"METER sums saturate instead of wrapping around",
			`[` + meter(true, "false", "9223372036854775807", "0", "0") + `,` + meter(true, "false", "5", "0", "0") + `]`,
			map[string]want{"m": {typ: "METER", access: true, limit: n(math.MaxInt64), usage: n(0), remaining: n(math.MaxInt64), items: 2}}},
		{"CUSTOMIZABLE takes the first entry's values, access from any entry",
			`[{"featureId":"c","featureType":"CUSTOMIZABLE","hasAccess":false,"hardLimit":true,"usageLimit":30,"currentUsage":null,"remaining":null},
			  {"featureId":"c","featureType":"CUSTOMIZABLE","hasAccess":true,"hardLimit":false,"usageLimit":90,"currentUsage":5,"remaining":85}]`,
			map[string]want{"c": {typ: "CUSTOMIZABLE", access: true, hard: true, limit: n(30), items: 2}}},
		{"CUSTOMIZABLE without any access",
			`[{"featureId":"c","featureType":"CUSTOMIZABLE","hasAccess":false,"usageLimit":30,"currentUsage":2,"remaining":28}]`,
			map[string]want{"c": {typ: "CUSTOMIZABLE", access: false, limit: n(30), usage: n(2), remaining: n(28), items: 1}}},
		{"BOOLEAN: access when any entry has it",
			`[{"featureId":"b","featureType":"BOOLEAN","hasAccess":false},{"featureId":"b","featureType":"BOOLEAN","hasAccess":true}]`,
			map[string]want{"b": {typ: "BOOLEAN", access: true, items: 2}}},
		{"BOOLEAN: no access when none has it (a missing hasAccess is no access)",
			`[{"featureId":"b","featureType":"BOOLEAN","hasAccess":false},{"featureId":"b","featureType":"BOOLEAN"}]`,
			map[string]want{"b": {typ: "BOOLEAN", access: false, items: 2}}},
		{"another type (FLAG) is treated as BOOLEAN and reports no counts",
			`[{"featureId":"f","featureType":"FLAG","hasAccess":true,"hardLimit":true,"usageLimit":5,"currentUsage":1,"remaining":4}]`,
			map[string]want{"f": {typ: "FLAG", access: true, items: 1}}},
		{"the type is the first entry's",
			`[` + meter(false, "false", "10", "2", "8") + `,{"featureId":"m","featureType":"BOOLEAN","hasAccess":false}]`,
			map[string]want{"m": {typ: "METER", access: true, limit: n(10), usage: n(2), remaining: n(8), items: 2}}},
		{"types compare exactly: meter in lower case is not METER",
			`[{"featureId":"m","featureType":"meter","hasAccess":false,"usageLimit":10,"currentUsage":2}]`,
			map[string]want{"m": {typ: "meter", access: false, items: 1}}},
		{"entries are grouped by feature; one without featureId is left out",
			`[` + boolOn + `,` + meterTen + `,{"featureType":"BOOLEAN","hasAccess":true},` + meterTen + `]`,
			map[string]want{
				"sso":       {typ: "BOOLEAN", access: true, items: 1},
				"api-calls": {typ: "METER", access: true, hard: true, limit: n(20), usage: n(8), remaining: n(12), items: 2},
			}},
		{"no entitlements at all", `[]`, map[string]want{}},
	}
	f := newFakeAPI(t)
	c, _ := newChecker(t, f)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			customer := fmt.Sprintf("cust_%d", i)
			f.set(customer, tt.entries)
			all, err := c.All(context.Background(), customer)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != len(tt.want) {
				t.Fatalf("got %d features %v, want %d", len(all), all, len(tt.want))
			}
			for id, w := range tt.want {
				e, ok := all[id]
				if !ok {
					t.Fatalf("feature %q missing from %v", id, all)
				}
				got := want{typ: e.FeatureType, access: e.HasAccess, hard: e.HardLimit, limit: e.UsageLimit, usage: e.CurrentUsage, remaining: e.Remaining, items: len(e.Items)}
				if got.typ != w.typ || got.access != w.access || got.hard != w.hard || got.items != w.items ||
					fmtCount(got.limit) != fmtCount(w.limit) || fmtCount(got.usage) != fmtCount(w.usage) || fmtCount(got.remaining) != fmtCount(w.remaining) {
					t.Errorf("%s: got type %s access %v hard %v limit %s usage %s remaining %s items %d\nwant type %s access %v hard %v limit %s usage %s remaining %s items %d",
						id, got.typ, got.access, got.hard, fmtCount(got.limit), fmtCount(got.usage), fmtCount(got.remaining), got.items,
						w.typ, w.access, w.hard, fmtCount(w.limit), fmtCount(w.usage), fmtCount(w.remaining), w.items)
				}
				if e.FeatureID != id || e.Stale || e.FetchedAt.IsZero() {
					t.Errorf("%s: FeatureID %q Stale %v FetchedAt %v", id, e.FeatureID, e.Stale, e.FetchedAt)
				}
				// HasAccess and Get agree with All.
				if ok, err := c.HasAccess(context.Background(), customer, id); err != nil || ok != w.access {
					t.Errorf("HasAccess(%q) = %v, %v; want %v", id, ok, err, w.access)
				}
			}
		})
	}
}
