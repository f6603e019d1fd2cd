package pathtemplate

import (
	"maps"
	"testing"
)

func TestMatchAndParams(t *testing.T) {
	tpl := Parse("/catalog/plans/{identifier}/features/{feature_id}/")
	if tpl.Literals != 5 || tpl.Slashes() != 6 {
		t.Errorf("literals %d, slashes %d", tpl.Literals, tpl.Slashes())
	}
	for path, want := range map[string]map[string]string{
		"/catalog/plans/pro/features/seats/":   {"identifier": "pro", "feature_id": "seats"},
		"/catalog/plans/a%2Fb/features/x%20y/": {"identifier": "a/b", "feature_id": "x y"},
		"/catalog/plans/pro/features/seats":    nil, // no trailing slash
		"/catalog/plans//features/seats/":      nil, // empty parameter
		"/catalog/plans/pro/features/seats/x/": nil,
		"/catalog/plans/pro/feature/seats/":    nil,
		"":                                     nil,
		"/catalog/plans/pro/features/seats//":  nil,
		"/catalog/plans/%zz/features/seats/":   {"identifier": "%zz", "feature_id": "seats"}, // kept as sent
	} {
		got := tpl.Params(path)
		if !maps.Equal(got, want) || (got == nil) != (want == nil) || tpl.Match(path) != (want != nil) {
			t.Errorf("%q: params %v, want %v", path, got, want)
		}
	}
}

func TestBestPrefersLiterals(t *testing.T) {
	ts := []Template{
		Parse("/partner/organizations/{identifier}/"),
		Parse("/partner/organizations/by-external-id/{externalId}/"),
		Parse("/partner/organizations/{identifier}/{x}/"),
	}
	if i := Best(ts, "/partner/organizations/by-external-id/acme/"); i != 1 {
		t.Errorf("chose %d", i)
	}
	if i := Best(ts, "/partner/organizations/acme/"); i != 0 {
		t.Errorf("chose %d", i)
	}
	if i := Best(ts, "/partner/other/"); i != -1 {
		t.Errorf("chose %d", i)
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	tpl := Parse("/catalog/plans/{identifier}/features/{feature_id}/")
	if n := testing.AllocsPerRun(100, func() { tpl.Match("/catalog/plans/pro/features/seats/") }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

func TestIndex(t *testing.T) {
	var x Index
	x.Add("GET", "/partner/organizations/{identifier}/", 10)
	x.Add("GET", "/partner/organizations/by-external-id/{externalId}/", 11)
	x.Add("DELETE", "/partner/organizations/{identifier}/", 12)
	x.Add("GET", "/customers/", 13)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/partner/organizations/by-external-id/acme/", 11},
		{"GET", "/partner/organizations/acme/", 10},
		{"DELETE", "/partner/organizations/acme/", 12},
		{"DELETE", "/customers/", -1},
		{"POST", "/customers/", -1},
		{"GET", "/customers/", 13},
		{"GET", "/customers/x/y/z/w/v/u/", -1},
		{"GET", "", -1},
	} {
		if got := x.Lookup(tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { x.Lookup("GET", "/partner/organizations/acme/") }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}
