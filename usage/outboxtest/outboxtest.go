// Package outboxtest checks that a usage.Outbox keeps the interface's
// contract: Run is a conformance suite for implementations (the file,
// memory and Redis outboxes run it, and so can a user's own).
//
//	func TestConformance(t *testing.T) {
//		outboxtest.Run(t, func(t *testing.T) usage.Outbox {
//			o, err := myoutbox.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return o
//		})
//	}
//
// open must return a new, empty outbox for each call; Run closes it. The
// subtests on lease expiry wait for Lease.Expires when a lease lasts at
// most MaxWait; a longer lease is expired by passing Claim a now past it
// instead, which suits an outbox whose leases follow the caller's clock
// (the file and memory ones). An outbox that keeps leases by its own clock
// (Redis) must be given a short lease, a second or less.
package outboxtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/usage"
)

// MaxWait is the longest lease the expiry subtests wait for.
const MaxWait = 5 * time.Second

// Run runs the conformance suite on the outboxes open returns.
func Run(t *testing.T, open func(t *testing.T) usage.Outbox) {
	t.Helper()
	tests := []struct {
		name string
		f    func(t *testing.T, o usage.Outbox)
	}{
		{"AppendKeepsOrderPerPair", appendOrder},
		{"AppendAllOrNone", appendAllOrNone},
		{"ClaimOnlyDuePairs", claimOnlyDue},
		{"ClaimLimits", claimLimits},
		{"LeaseExclusiveUntilExpiry", leaseExclusive},
		{"DoneAfterLeaseLost", doneAfterLeaseLost},
		{"NotBeforeHoldsAfterPairEmpties", notBefore},
		{"MarkSeenByNextClaimer", markSeen},
		{"UnmarkClearsSending", unmark},
		{"DeadLetterFields", deadLetterFields},
		{"RequeueOrder", requeueOrder},
		{"PurgeFilter", purgeFilter},
		{"PendingAndSummary", pendingSummary},
		{"ConcurrentClaimsExclusive", concurrentClaims},
		{"OddLeasesNoPanic", oddLeases},
		{"OddIDs", oddIDs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := open(t)
			t.Cleanup(func() {
				if err := o.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.f(t, o)
		})
	}
}

var ctx = context.Background()

// t0 is the StoredAt of the suite's reports: distinct, exact nanoseconds.
var t0 = time.Unix(1_700_000_000, 123_456_789)

func delta(c, f string, v, i int) usage.Report {
	return usage.Report{CustomerID: c, FeatureID: f, Value: v, Behaviour: api.ReportUsageRequestBehaviourDELTA,
		StoredAt: t0.Add(time.Duration(i) * time.Millisecond)}
}

func set(c, f string, v, i int) usage.Report {
	r := delta(c, f, v, i)
	r.Behaviour = api.ReportUsageRequestBehaviourSET
	return r
}

func mustAppend(t *testing.T, o usage.Outbox, rs ...usage.Report) {
	t.Helper()
	if err := o.Append(ctx, rs); err != nil {
		t.Fatalf("Append(%d reports): %v", len(rs), err)
	}
}

func claim(t *testing.T, o usage.Outbox, maxPairs, perPair int) []*usage.Lease {
	t.Helper()
	ls, _, err := o.Claim(ctx, now(o), maxPairs, perPair)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return ls
}

func byPair(ls []*usage.Lease) map[string]*usage.Lease {
	m := map[string]*usage.Lease{}
	for _, l := range ls {
		m[l.CustomerID+"/"+l.FeatureID] = l
	}
	return m
}

// sameReport compares what a record must keep of a report.
func sameReport(a, b usage.Report) bool {
	return a.CustomerID == b.CustomerID && a.FeatureID == b.FeatureID && a.Value == b.Value &&
		a.Behaviour == b.Behaviour && a.StoredAt.Equal(b.StoredAt)
}

func checkRecords(t *testing.T, what string, got []usage.Record, want ...usage.Report) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d: %+v", what, len(got), len(want), got)
	}
	for i := range want {
		if !sameReport(got[i].Report, want[i]) {
			t.Fatalf("%s: record %d is %+v, want %+v", what, i, got[i].Report, want[i])
		}
	}
}

// waitExpiry waits until l has expired. A lease longer than MaxWait is
// not waited for: the suite's clock, which it passes to Claim as now, jumps
// past its expiry instead (Lease.Expires is by the caller's clock), which
// an outbox that keeps its leases by another clock cannot follow.
func waitExpiry(t *testing.T, o usage.Outbox, l *usage.Lease) {
	t.Helper()
	d := l.Expires.Sub(now(o))
	if d > MaxWait {
		// Too long to wait: move the suite's clock (Claim's now) past it.
		skews.Store(o, skew(o)+d+time.Millisecond)
		return
	}
	time.Sleep(d + 150*time.Millisecond)
}

// skews holds, per outbox, how far the suite has moved its clock ahead of
// the real one (see waitExpiry).
var skews sync.Map

func skew(o usage.Outbox) time.Duration {
	d, _ := skews.Load(o)
	s, _ := d.(time.Duration)
	return s
}

// now is the suite's clock for o: what it passes to Claim and bases
// not-before times on.
func now(o usage.Outbox) time.Time { return time.Now().Add(skew(o)) }

func appendOrder(t *testing.T, o usage.Outbox) {
	a := []usage.Report{delta("c1", "f", 1, 0), delta("c1", "f", 2, 2), set("c1", "f", 3, 4)}
	b := []usage.Report{delta("c2", "f", 10, 1), delta("c2", "f", -20, 3)}
	mustAppend(t, o, a[0], b[0], a[1])
	mustAppend(t, o, b[1], a[2])
	ls := byPair(claim(t, o, 10, 10))
	if len(ls) != 2 || ls["c1/f"] == nil || ls["c2/f"] == nil {
		t.Fatalf("Claim leased %d pairs, want c1/f and c2/f", len(ls))
	}
	checkRecords(t, "c1/f", ls["c1/f"].Records, a...)
	checkRecords(t, "c2/f", ls["c2/f"].Records, b...)
	ids := map[string]bool{}
	for _, l := range ls {
		if l.Token == "" {
			t.Errorf("lease on %s/%s has no token", l.CustomerID, l.FeatureID)
		}
		for _, r := range l.Records {
			if r.ID == "" || ids[r.ID] {
				t.Errorf("record ID %q is empty or not unique", r.ID)
			}
			ids[r.ID] = true
			if r.Sending {
				t.Errorf("a record never marked says Sending")
			}
		}
	}
}

func appendAllOrNone(t *testing.T, o usage.Outbox) {
	// An outbox may refuse what cannot be stored (a batch that holds an
	// invalid report, a cancelled context), or store it; either way all
	// or none.
	batch := []usage.Report{delta("c1", "f", 1, 0), {CustomerID: "", FeatureID: "f", Value: 1, Behaviour: "BOGUS"}, delta("c2", "f", 2, 1)}
	err := o.Append(ctx, batch)
	checkQueued(t, o, err, "a batch with an invalid report", 3)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = o.Append(cctx, []usage.Report{delta("c3", "f", 1, 2), delta("c4", "f", 1, 3)})
	checkQueued(t, o, err, "a batch with a cancelled context", 2)
}

// checkQueued checks, after an Append that returned err, that all or none
// of want reports are queued.
func checkQueued(t *testing.T, o usage.Outbox, err error, what string, want int) {
	t.Helper()
	s, serr := o.Summary(ctx)
	if serr != nil {
		t.Fatal(serr)
	}
	p, perr := o.Pending(ctx)
	if perr != nil {
		t.Fatal(perr)
	}
	n := 0
	for _, q := range p {
		n += q.Reports
	}
	if int64(n) != s.Queued {
		t.Fatalf("Pending holds %d reports, Summary says %d", n, s.Queued)
	}
	switch {
	case err != nil && n != 0:
		t.Fatalf("Append of %s failed (%v) and left %d of %d reports queued", what, err, n, want)
	case err == nil && n != want:
		t.Fatalf("Append of %s succeeded and queued %d of %d reports", what, n, want)
	}
	if err == nil {
		// Start the next check from an empty outbox.
		for _, l := range claim(t, o, 100, 100) {
			if derr := o.Done(ctx, l, len(l.Records), time.Time{}); derr != nil {
				t.Fatal(derr)
			}
		}
	}
}

func claimOnlyDue(t *testing.T, o usage.Outbox) {
	if ls := claim(t, o, 10, 10); len(ls) != 0 {
		t.Fatalf("an empty outbox leased %d pairs", len(ls))
	}
	mustAppend(t, o, delta("c1", "f", 1, 0), delta("c2", "f", 1, 1))
	ls := byPair(claim(t, o, 10, 10))
	if len(ls) != 2 {
		t.Fatalf("leased %d pairs, want 2", len(ls))
	}
	// c1 waits an hour; c2 is leased.
	if err := o.Done(ctx, ls["c1/f"], 1, now(o).Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, o, delta("c1", "f", 5, 2), delta("c2", "f", 5, 3))
	ls2, next, err := o.Claim(ctx, now(o), 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls2) != 0 {
		t.Fatalf("Claim leased %s/%s: one waits for its not-before, the other is leased", ls2[0].CustomerID, ls2[0].FeatureID)
	}
	if next.IsZero() || next.After(now(o).Add(time.Hour)) {
		t.Fatalf("Claim's next is %v with a pair due within the hour", next)
	}
	// c2's lease ended with a not-before in the past: due again.
	if err := o.Done(ctx, ls["c2/f"], 1, now(o).Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	ls3 := claim(t, o, 10, 10)
	if len(ls3) != 1 || ls3[0].CustomerID != "c2" {
		t.Fatalf("after c2's lease ended Claim leased %d pairs, want c2/f", len(ls3))
	}
	checkRecords(t, "c2/f", ls3[0].Records, delta("c2", "f", 5, 3))
}

func claimLimits(t *testing.T, o usage.Outbox) {
	var all []usage.Report
	for p := range 5 {
		for i := range 3 {
			all = append(all, delta(fmt.Sprintf("c%d", p), "f", 10*p+i, 3*p+i))
		}
	}
	mustAppend(t, o, all...)
	seen := map[string]bool{}
	for round := range 3 {
		ls := claim(t, o, 2, 2)
		want := 2
		if round == 2 {
			want = 1
		}
		if len(ls) != want {
			t.Fatalf("round %d: Claim(maxPairs 2) leased %d pairs, want %d", round, len(ls), want)
		}
		for _, l := range ls {
			if seen[l.CustomerID] {
				t.Fatalf("%s leased twice while its lease holds", l.CustomerID)
			}
			seen[l.CustomerID] = true
			var p int
			fmt.Sscanf(l.CustomerID, "c%d", &p)
			checkRecords(t, l.CustomerID, l.Records, all[3*p], all[3*p+1])
		}
	}
	if ls := claim(t, o, 10, 10); len(ls) != 0 {
		t.Fatalf("leased pairs were claimed again")
	}
}

func leaseExclusive(t *testing.T, o usage.Outbox) {
	mustAppend(t, o, delta("c1", "f", 1, 0))
	ls := claim(t, o, 10, 10)
	if len(ls) != 1 {
		t.Fatalf("leased %d pairs, want 1", len(ls))
	}
	if !ls[0].Expires.After(now(o)) {
		t.Fatalf("a new lease expires at %v, in the past", ls[0].Expires)
	}
	if again := claim(t, o, 10, 10); len(again) != 0 {
		t.Fatal("a leased pair was claimed again before its lease expired")
	}
	waitExpiry(t, o, ls[0])
	again := claim(t, o, 10, 10)
	if len(again) != 1 {
		t.Fatal("a pair whose lease expired was not claimed again")
	}
	if again[0].Token == ls[0].Token {
		t.Fatal("the new lease has the expired lease's token")
	}
	checkRecords(t, "c1/f", again[0].Records, delta("c1", "f", 1, 0))
}

func doneAfterLeaseLost(t *testing.T, o usage.Outbox) {
	rs := []usage.Report{delta("c1", "f", 1, 0), delta("c1", "f", 2, 1), delta("c1", "f", 3, 2)}
	mustAppend(t, o, rs...)
	l1 := claim(t, o, 10, 10)
	if len(l1) != 1 {
		t.Fatal("nothing leased")
	}
	waitExpiry(t, o, l1[0])
	l2 := claim(t, o, 10, 10)
	if len(l2) != 1 {
		t.Fatal("an expired lease's pair was not claimed again")
	}
	// The first holder's request went through: its records go, though its
	// lease is lost, and the second holder's lease stays.
	err := o.Done(ctx, l1[0], 2, time.Time{})
	if !errors.Is(err, usage.ErrLeaseLost) {
		t.Fatalf("Done on a lost lease: %v, want ErrLeaseLost", err)
	}
	if ls := claim(t, o, 10, 10); len(ls) != 0 {
		t.Fatal("Done on a lost lease ended the new holder's lease")
	}
	p := pending(t, o)
	if len(p) != 1 || p[0].Reports != 1 {
		t.Fatalf("after Done(2) on a lost lease: %+v queued, want 1 report", p)
	}
	if err := o.Done(ctx, l2[0], 3, time.Time{}); err != nil {
		t.Fatalf("Done on the live lease (2 of its records already gone): %v", err)
	}
	if p := pending(t, o); len(p) != 0 {
		t.Fatalf("after both Dones %+v is still queued", p)
	}
	// A DeadLetter on a lost lease moves its records too.
	mustAppend(t, o, delta("c2", "f", 7, 3))
	d1 := claim(t, o, 10, 10)
	if len(d1) != 1 {
		t.Fatal("nothing leased")
	}
	waitExpiry(t, o, d1[0])
	d2 := claim(t, o, 10, 10)
	if len(d2) != 1 {
		t.Fatal("not claimed again")
	}
	err = o.DeadLetter(ctx, d1[0], 1, usage.DeadLetter{Reason: "401", Status: 401, Error: "refused", At: time.Now()}, time.Time{})
	if !errors.Is(err, usage.ErrLeaseLost) {
		t.Fatalf("DeadLetter on a lost lease: %v, want ErrLeaseLost", err)
	}
	if dls := deadLetters(t, o); len(dls) != 1 || !sameReport(dls[0].Report, delta("c2", "f", 7, 3)) {
		t.Fatalf("dead letters %+v, want the one report", dls)
	}
}

func notBefore(t *testing.T, o usage.Outbox) {
	mustAppend(t, o, delta("c1", "f", 1, 0))
	ls := claim(t, o, 10, 10)
	pause := 700 * time.Millisecond
	if err := o.Done(ctx, ls[0], 1, now(o).Add(pause)); err != nil {
		t.Fatal(err)
	}
	// The pair is empty; a report stored now waits for the pause.
	mustAppend(t, o, delta("c1", "f", 2, 1))
	start := time.Now()
	ls2, next, err := o.Claim(ctx, now(o), 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls2) != 0 && time.Since(start) < pause/2 {
		t.Fatal("a report stored during the pair's pause was claimed before the pause ended")
	}
	if next.IsZero() || next.After(start.Add(pause+time.Second)) {
		t.Fatalf("Claim's next is %v, want by the pause's end", next)
	}
	time.Sleep(time.Until(start.Add(pause + 100*time.Millisecond)))
	ls3 := claim(t, o, 10, 10)
	if len(ls3) != 1 {
		t.Fatal("the pair was not claimed after its pause")
	}
	checkRecords(t, "c1/f", ls3[0].Records, delta("c1", "f", 2, 1))
}

func markSeen(t *testing.T, o usage.Outbox) {
	rs := []usage.Report{delta("c1", "f", 1, 0), delta("c1", "f", 2, 1), delta("c1", "f", 3, 2)}
	mustAppend(t, o, rs...)
	ls := claim(t, o, 10, 10)
	if err := o.Mark(ctx, ls[0], 2); err != nil {
		t.Fatal(err)
	}
	// The holder dies; the next claimer sees what was in flight.
	waitExpiry(t, o, ls[0])
	again := claim(t, o, 10, 10)
	if len(again) != 1 {
		t.Fatal("not claimed again after expiry")
	}
	checkRecords(t, "c1/f", again[0].Records, rs...)
	for i, want := range []bool{true, true, false} {
		if again[0].Records[i].Sending != want {
			t.Fatalf("record %d: Sending %v, want %v", i, again[0].Records[i].Sending, want)
		}
	}
}

func unmark(t *testing.T, o usage.Outbox) {
	mustAppend(t, o, delta("c1", "f", 1, 0), delta("c1", "f", 2, 1))
	ls := claim(t, o, 10, 10)
	if err := o.Mark(ctx, ls[0], 2); err != nil {
		t.Fatal(err)
	}
	if err := o.Unmark(ctx, ls[0], 2); err != nil {
		t.Fatal(err)
	}
	if err := o.Done(ctx, ls[0], 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	again := claim(t, o, 10, 10)
	if len(again) != 1 || len(again[0].Records) != 2 {
		t.Fatal("Done(0) lost records")
	}
	for i, r := range again[0].Records {
		if r.Sending {
			t.Fatalf("record %d says Sending after Unmark", i)
		}
	}
}

func deadLetterFields(t *testing.T, o usage.Outbox) {
	rs := []usage.Report{delta("c1", "f", 1, 0), set("c1", "f", 9, 1), delta("c1", "f", 3, 2)}
	mustAppend(t, o, rs...)
	ls := claim(t, o, 10, 10)
	at := time.Unix(1_700_000_100, 5)
	dl := usage.DeadLetter{Reason: "401", Status: 401, Error: "kelviq refused the server key", At: at}
	if err := o.DeadLetter(ctx, ls[0], 2, dl, time.Time{}); err != nil {
		t.Fatal(err)
	}
	dls := deadLetters(t, o)
	if len(dls) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dls))
	}
	for i, d := range dls {
		if !sameReport(d.Report, rs[i]) || d.Reason != "401" || d.Status != 401 || d.Error != dl.Error || !d.At.Equal(at) || d.ID == "" {
			t.Fatalf("dead letter %d is %+v, want report %+v with %+v", i, d, rs[i], dl)
		}
	}
	if dls[0].ID == dls[1].ID {
		t.Fatal("two dead letters share an ID")
	}
	again := claim(t, o, 10, 10)
	if len(again) != 1 {
		t.Fatal("the rest of the pair is not due after DeadLetter")
	}
	checkRecords(t, "c1/f", again[0].Records, rs[2])
	s := summary(t, o)
	if s.Queued != 1 || s.DeadLetters != 2 {
		t.Fatalf("Summary %+v, want 1 queued and 2 dead letters", s)
	}
}

func requeueOrder(t *testing.T, o usage.Outbox) {
	rs := []usage.Report{delta("c1", "f", 1, 0), delta("c1", "f", 2, 1), delta("c2", "f", 5, 2), delta("c1", "f", 3, 3)}
	mustAppend(t, o, rs...)
	for _, l := range claim(t, o, 10, 2) {
		reason := "401"
		if l.CustomerID == "c2" {
			reason = "422"
		}
		if err := o.DeadLetter(ctx, l, len(l.Records), usage.DeadLetter{Reason: reason, Status: 401, At: time.Now()}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// c1 holds 3; 1 and 2 are dead, c2's 5 is dead (422).
	mustAppend(t, o, delta("c1", "f", 4, 4))
	n, err := o.RequeueDeadLetters(ctx, func(d usage.DeadLetter) bool { return d.Reason == "401" })
	if err != nil || n != 2 {
		t.Fatalf("RequeueDeadLetters(401) = %d, %v; want 2", n, err)
	}
	ls := byPair(claim(t, o, 10, 10))
	if len(ls) != 1 {
		t.Fatalf("leased %d pairs, want c1/f (c2's dead letter is a 422)", len(ls))
	}
	checkRecords(t, "c1/f", ls["c1/f"].Records, rs[3], delta("c1", "f", 4, 4), rs[0], rs[1])
	for _, r := range ls["c1/f"].Records {
		if r.Sending {
			t.Fatal("a requeued record says Sending")
		}
	}
	if dls := deadLetters(t, o); len(dls) != 1 || dls[0].Report.CustomerID != "c2" {
		t.Fatalf("dead letters left %+v, want c2's", dls)
	}
	if n, err := o.RequeueDeadLetters(ctx, func(usage.DeadLetter) bool { return false }); err != nil || n != 0 {
		t.Fatalf("RequeueDeadLetters(none) = %d, %v", n, err)
	}
	if n, err := o.RequeueDeadLetters(ctx, nil); err != nil || n != 1 {
		t.Fatalf("RequeueDeadLetters(nil) = %d, %v; want 1", n, err)
	}
	if s := summary(t, o); s.DeadLetters != 0 || s.Queued != 5 {
		t.Fatalf("Summary %+v, want 5 queued and no dead letters", s)
	}
}

func purgeFilter(t *testing.T, o usage.Outbox) {
	var rs []usage.Report
	for i := range 6 {
		rs = append(rs, delta(fmt.Sprintf("c%d", i%3), "f", i+1, i))
	}
	mustAppend(t, o, rs...)
	for _, l := range claim(t, o, 10, 10) {
		if err := o.DeadLetter(ctx, l, len(l.Records), usage.DeadLetter{Reason: "403", Status: 403, At: time.Now()}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := o.PurgeDeadLetters(ctx, func(d usage.DeadLetter) bool { return d.Report.CustomerID == "c1" })
	if err != nil || n != 2 {
		t.Fatalf("PurgeDeadLetters(c1) = %d, %v; want 2", n, err)
	}
	dls := deadLetters(t, o)
	if len(dls) != 4 {
		t.Fatalf("%d dead letters left, want 4", len(dls))
	}
	for _, d := range dls {
		if d.Report.CustomerID == "c1" {
			t.Fatalf("a purged dead letter is still there: %+v", d)
		}
	}
	if p := pending(t, o); len(p) != 0 {
		t.Fatalf("PurgeDeadLetters queued %+v", p)
	}
	if n, err := o.PurgeDeadLetters(ctx, nil); err != nil || n != 4 {
		t.Fatalf("PurgeDeadLetters(nil) = %d, %v; want 4", n, err)
	}
	if s := summary(t, o); s.DeadLetters != 0 {
		t.Fatalf("Summary %+v after purging everything", s)
	}
}

func pendingSummary(t *testing.T, o usage.Outbox) {
	if s := summary(t, o); s.Queued != 0 || !s.Oldest.IsZero() || s.DeadLetters != 0 {
		t.Fatalf("an empty outbox's Summary is %+v", s)
	}
	mustAppend(t, o, delta("c2", "f", 1, 5), delta("c1", "f", 1, 3), delta("c1", "g", 1, 7), delta("c2", "f", 1, 9))
	want := map[string]usage.PairQueue{
		"c2/f": {CustomerID: "c2", FeatureID: "f", Reports: 2, Oldest: t0.Add(5 * time.Millisecond)},
		"c1/f": {CustomerID: "c1", FeatureID: "f", Reports: 1, Oldest: t0.Add(3 * time.Millisecond)},
		"c1/g": {CustomerID: "c1", FeatureID: "g", Reports: 1, Oldest: t0.Add(7 * time.Millisecond)},
	}
	check := func(leased string) {
		t.Helper()
		p := pending(t, o)
		if len(p) != len(want) {
			t.Fatalf("Pending has %d pairs, want %d: %+v", len(p), len(want), p)
		}
		for _, q := range p {
			k := q.CustomerID + "/" + q.FeatureID
			w := want[k]
			w.Leased = k == leased
			if q.Reports != w.Reports || !q.Oldest.Equal(w.Oldest) || q.Leased != w.Leased {
				t.Fatalf("Pending %s is %+v, want %+v", k, q, w)
			}
		}
	}
	check("")
	s := summary(t, o)
	if s.Queued != 4 || !s.Oldest.Equal(t0.Add(3*time.Millisecond)) {
		t.Fatalf("Summary %+v, want 4 queued, the oldest at %v", s, t0.Add(3*time.Millisecond))
	}
	ls := claim(t, o, 1, 10)
	if len(ls) != 1 {
		t.Fatal("nothing leased")
	}
	check(ls[0].CustomerID + "/" + ls[0].FeatureID)
	// Deliver c1/f: the oldest moves.
	for ls[0].CustomerID+"/"+ls[0].FeatureID != "c1/f" {
		if err := o.Done(ctx, ls[0], 0, now(o).Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ls = claim(t, o, 1, 10)
		if len(ls) != 1 {
			t.Fatal("c1/f was never leased")
		}
	}
	if err := o.Done(ctx, ls[0], 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	s = summary(t, o)
	if s.Queued != 3 || !s.Oldest.Equal(t0.Add(5*time.Millisecond)) {
		t.Fatalf("after delivering c1/f Summary is %+v, want 3 queued, the oldest at %v", s, t0.Add(5*time.Millisecond))
	}
}

func concurrentClaims(t *testing.T, o usage.Outbox) {
	var rs []usage.Report
	for i := range 40 {
		rs = append(rs, delta(fmt.Sprintf("c%d", i%20), "f", 1, i))
	}
	mustAppend(t, o, rs...)
	got := make(chan []*usage.Lease, 8)
	for range 8 {
		go func() {
			ls, _, err := o.Claim(ctx, now(o), 5, 10)
			if err != nil {
				t.Error(err)
			}
			got <- ls
		}()
	}
	seen := map[string]bool{}
	for range 8 {
		for _, l := range <-got {
			if seen[l.CustomerID] {
				t.Fatalf("%s leased by two concurrent claims", l.CustomerID)
			}
			seen[l.CustomerID] = true
			if len(l.Records) != 2 {
				t.Fatalf("%s leased with %d records, want 2", l.CustomerID, len(l.Records))
			}
		}
	}
	if len(seen) != 20 {
		t.Fatalf("8 claims of 5 leased %d of 20 pairs", len(seen))
	}
}

func pending(t *testing.T, o usage.Outbox) []usage.PairQueue {
	t.Helper()
	p, err := o.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func deadLetters(t *testing.T, o usage.Outbox) []usage.DeadLetter {
	t.Helper()
	d, err := o.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func summary(t *testing.T, o usage.Outbox) usage.Summary {
	t.Helper()
	s, err := o.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
