package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

// queuedJSON and deadJSON are inspect -json's rows.
type queuedJSON struct {
	Customer string    `json:"customer"`
	Feature  string    `json:"feature"`
	Reports  int       `json:"reports"`
	Oldest   time.Time `json:"oldest"`
	Leased   bool      `json:"leased"`
}

type deadJSON struct {
	ID        string    `json:"id"`
	Customer  string    `json:"customer"`
	Feature   string    `json:"feature"`
	Value     int       `json:"value"`
	Behaviour string    `json:"behaviour"`
	StoredAt  time.Time `json:"stored_at"`
	Reason    string    `json:"reason"`
	Status    int       `json:"status,omitempty"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
}

// inspectJSON is what inspect -json prints.
type inspectJSON struct {
	Queued      []queuedJSON `json:"queued"`
	DeadLetters []deadJSON   `json:"dead_letters"`
}

// inspect prints the queued pairs and dead letters the flags select, and
// returns how many it printed. -reason selects dead letters only: queued
// reports have no reason.
func inspect(ctx context.Context, o usage.Outbox, a args, w io.Writer) (int, error) {
	pending, err := o.Pending(ctx)
	if err != nil {
		return 0, err
	}
	dead, err := o.DeadLetters(ctx)
	if err != nil {
		return 0, err
	}
	out := inspectJSON{Queued: []queuedJSON{}, DeadLetters: []deadJSON{}}
	if a.reason == "" {
		for _, q := range pending {
			if a.matchPair(q.CustomerID, q.FeatureID) {
				out.Queued = append(out.Queued, queuedJSON{q.CustomerID, q.FeatureID, q.Reports, q.Oldest.UTC(), q.Leased})
			}
		}
	}
	for _, d := range dead {
		if a.match(d) {
			out.DeadLetters = append(out.DeadLetters, deadJSON{d.ID, d.Report.CustomerID, d.Report.FeatureID, d.Report.Value,
				string(d.Report.Behaviour), d.Report.StoredAt.UTC(), d.Reason, d.Status, d.Error, d.At.UTC()})
		}
	}
	n := len(out.Queued) + len(out.DeadLetters)
	if a.json {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return n, e.Encode(out)
	}
	total := 0
	for _, q := range out.Queued {
		total += q.Reports
	}
	fmt.Fprintf(w, "queued: %d reports for %d (customer, feature) pairs\n", total, len(out.Queued))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(out.Queued) > 0 {
		fmt.Fprintln(tw, "  CUSTOMER\tFEATURE\tREPORTS\tOLDEST\tIN FLIGHT")
		for _, q := range out.Queued {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%v\n", strconv.Quote(q.Customer), strconv.Quote(q.Feature), q.Reports, q.Oldest.Format(time.RFC3339), q.Leased)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "dead letters: %d\n", len(out.DeadLetters))
	if len(out.DeadLetters) > 0 {
		fmt.Fprintln(tw, "  ID\tCUSTOMER\tFEATURE\tBEHAVIOUR\tVALUE\tREASON\tAT\tERROR")
		for _, d := range out.DeadLetters {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, strconv.Quote(d.Customer), strconv.Quote(d.Feature), d.Behaviour, d.Value,
				d.Reason, d.At.Format(time.RFC3339), d.Error)
		}
		tw.Flush()
	}
	return n, nil
}

// report prints what requeue or purge did.
func report(w io.Writer, asJSON bool, verb string, n int, name string) {
	if asJSON {
		b, _ := json.Marshal(map[string]int{verb: n})
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	fmt.Fprintf(w, "%s %d dead letters in %s\n", verb, n, name)
}
