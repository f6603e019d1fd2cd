package outboxtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// oddLeases gives back leases a careless caller could make: nil, the zero
// Lease, another lease's pair with no token, and record counts out of
// range, and asks for claims of no pairs or no records. Each call returns
// (an error or nothing), never panics, and leaves the queued record queued
// and its real lease alone.
func oddLeases(t *testing.T, o usage.Outbox) {
	mustAppend(t, o, delta("c1", "f", 1, 0))
	for _, lim := range [][2]int{{0, 10}, {-1, 10}, {10, 0}, {10, -1}} {
		ls, _, err := noPanic2(t, fmt.Sprintf("Claim(maxPairs %d, perPair %d)", lim[0], lim[1]), func() ([]*usage.Lease, error) {
			ls, _, err := o.Claim(ctx, now(o), lim[0], lim[1])
			return ls, err
		})
		if err == nil && len(ls) > 0 {
			t.Fatalf("Claim(maxPairs %d, perPair %d) leased %d pairs; want an error or none", lim[0], lim[1], len(ls))
		}
	}
	ls := claim(t, o, 10, 10)
	if len(ls) != 1 {
		t.Fatalf("leased %d pairs, want 1", len(ls))
	}
	real := ls[0]
	forged := &usage.Lease{CustomerID: real.CustomerID, FeatureID: real.FeatureID, Records: real.Records}
	dl := usage.DeadLetter{Reason: "401", Status: 401, At: time.Now()}
	for _, c := range []struct {
		name string
		l    *usage.Lease
		n    int
	}{{"nil", nil, 0}, {"nil", nil, 1}, {"zero", &usage.Lease{}, 1}, {"forged", forged, 1},
		{"negative", real, -1}, {"too many", real, len(real.Records) + 1}} {
		what := fmt.Sprintf("%s lease, n %d", c.name, c.n)
		noPanic(t, "Mark("+what+")", func() error { return o.Mark(ctx, c.l, c.n) })
		noPanic(t, "Unmark("+what+")", func() error { return o.Unmark(ctx, c.l, c.n) })
		noPanic(t, "Done("+what+")", func() error { return o.Done(ctx, c.l, c.n, time.Time{}) })
		noPanic(t, "DeadLetter("+what+")", func() error { return o.DeadLetter(ctx, c.l, c.n, dl, time.Time{}) })
		if s := summary(t, o); s.Queued != 1 || s.DeadLetters != 0 {
			t.Fatalf("after the calls with a %s: %d queued, %d dead letters; want 1 and 0", what, s.Queued, s.DeadLetters)
		}
	}
	if again := claim(t, o, 10, 10); len(again) != 0 {
		t.Fatal("a call with an odd lease ended the real one")
	}
	if err := o.Done(ctx, real, 1, time.Time{}); err != nil {
		t.Fatalf("Done on the real lease: %v", err)
	}
	if s := summary(t, o); s.Queued != 0 {
		t.Fatalf("after Done %d queued, want 0", s.Queued)
	}
}

func noPanic(t *testing.T, what string, f func() error) {
	t.Helper()
	_, _, _ = noPanic2(t, what, func() ([]*usage.Lease, error) { return nil, f() })
}

func noPanic2(t *testing.T, what string, f func() ([]*usage.Lease, error)) (ls []*usage.Lease, _ struct{}, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s panicked: %v", what, p)
		}
	}()
	ls, err = f()
	return ls, struct{}{}, err
}

// oddIDs stores reports for IDs made of the bytes an encoding could trip
// on (separators, braces, '|', multi-byte UTF-8, 1024 bytes) and pairs
// whose IDs concatenate alike; each comes back from Claim, Pending and the
// dead letters as its own pair, with its own IDs.
func oddIDs(t *testing.T, o usage.Outbox) {
	long := strings.Repeat("é", 512) // 1024 bytes
	pairs := [][2]string{
		{"a:b", "c"}, {"a", "b:c"}, {"ab", "c"}, {"a", "bc"}, {"1:a", "b"}, {"1", ":ab"},
		{"{x}", "}y{"}, {"p|1|2", "D5"}, {"日本", "機能"}, {long, long}, {"\x01", "\x7f"}, {"10", "0"}, {"1", "00"},
	}
	var rs []usage.Report
	for i, p := range pairs {
		rs = append(rs, delta(p[0], p[1], i+1, i))
	}
	mustAppend(t, o, rs...)
	got := map[[2]string]int{}
	for _, q := range pending(t, o) {
		got[[2]string{q.CustomerID, q.FeatureID}] += q.Reports
	}
	for _, p := range pairs {
		if got[p] != 1 {
			t.Fatalf("Pending: pair %q holds %d reports, want 1 (all: %v)", p, got[p], got)
		}
	}
	ls := claim(t, o, len(pairs)+1, 10)
	if len(ls) != len(pairs) {
		t.Fatalf("Claim leased %d pairs, want %d", len(ls), len(pairs))
	}
	for _, l := range ls {
		if len(l.Records) != 1 || l.Records[0].Report.CustomerID != l.CustomerID || l.Records[0].Report.FeatureID != l.FeatureID {
			t.Fatalf("lease of %q/%q holds %+v", l.CustomerID, l.FeatureID, l.Records)
		}
		i := l.Records[0].Report.Value - 1
		if i < 0 || i >= len(pairs) || pairs[i] != [2]string{l.CustomerID, l.FeatureID} {
			t.Fatalf("lease of %q/%q holds the report of another pair: %+v", l.CustomerID, l.FeatureID, l.Records[0].Report)
		}
		if err := o.DeadLetter(ctx, l, 1, usage.DeadLetter{Reason: "422", Status: 422, At: time.Now()}, time.Time{}); err != nil {
			t.Fatalf("DeadLetter: %v", err)
		}
	}
	dls := deadLetters(t, o)
	if len(dls) != len(pairs) {
		t.Fatalf("%d dead letters, want %d", len(dls), len(pairs))
	}
	for _, d := range dls {
		i := d.Report.Value - 1
		if i < 0 || i >= len(pairs) || pairs[i] != [2]string{d.Report.CustomerID, d.Report.FeatureID} {
			t.Fatalf("dead letter %+v is not the report stored", d.Report)
		}
	}
	if n, err := o.RequeueDeadLetters(ctx, func(d usage.DeadLetter) bool { return d.Report.CustomerID == "a" }); err != nil || n != 2 {
		t.Fatalf("requeue of customer \"a\": %d, %v; want 2", n, err)
	}
	got = map[[2]string]int{}
	for _, q := range pending(t, o) {
		got[[2]string{q.CustomerID, q.FeatureID}] += q.Reports
	}
	if len(got) != 2 || got[[2]string{"a", "b:c"}] != 1 || got[[2]string{"a", "bc"}] != 1 {
		t.Fatalf("after requeue queued %v, want a/b:c and a/bc", got)
	}
}
