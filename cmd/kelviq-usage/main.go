// Command kelviq-usage shows and repairs a usage outbox: what is queued per
// (customer, feature), and the dead letters, which it can requeue or purge.
//
//	kelviq-usage inspect -path /var/lib/myapp/usage.db
//	kelviq-usage requeue -path /var/lib/myapp/usage.db -reason 401
//	kelviq-usage purge   -redis redis://localhost:6379/0 -prefix myapp:usage: -customer cust_42
//	kelviq-usage inspect -redis redis://localhost:6379/0 -prefix myapp:usage: -json
//
// The outbox is a bbolt file (-path, the file of usage.WithPath) or a
// prefix on Redis (-redis URL -prefix P, that of usage/redisoutbox).
// -customer, -feature and -reason (the dead letter's reason: an HTTP
// status such as 401, "redirect", "uncertain" or "unreadable") select what
// the command acts on (-reason only dead letters: queued reports have no
// reason); purge without any of them needs -all. -json prints JSON instead
// of text.
//
// A file that a running Reporter holds cannot be opened: kelviq-usage says
// so and changes nothing. Stop the Reporter, or call its
// RequeueDeadLetters and PurgeDeadLetters. A Redis outbox is shared: the
// command works while Reporters run, and requeued reports are sent by them.
//
// Exit status: 0 done, 1 nothing matched (nothing queued or dead, nothing
// requeued or purged), 2 bad usage or an outbox that cannot be read (named
// in the message).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kelviq/kelviq-go/usage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `usage: kelviq-usage inspect|requeue|purge (-path FILE | -redis URL -prefix P)
        [-customer ID] [-feature ID] [-reason R] [-all] [-json]
`

// args are the parsed command line.
type args struct {
	cmd                       string
	path, redisURL, prefix    string
	customer, feature, reason string
	all, json                 bool
}

// errUsage is a command line that cannot run; exit status 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func parse(argv []string, stderr io.Writer) (args, error) {
	var a args
	if len(argv) == 0 {
		return a, errUsage{"no command"}
	}
	a.cmd = argv[0]
	switch a.cmd {
	case "inspect", "requeue", "purge":
	case "-h", "-help", "--help", "help":
		return a, flag.ErrHelp
	default:
		return a, errUsage{fmt.Sprintf("unknown command %q (want inspect, requeue or purge)", a.cmd)}
	}
	fs := flag.NewFlagSet("kelviq-usage "+a.cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	fs.StringVar(&a.path, "path", "", "the outbox `file` (bbolt) of usage.WithPath")
	fs.StringVar(&a.redisURL, "redis", "", "the Redis `URL` of a usage/redisoutbox outbox (redis://[user:password@]host:port/db)")
	fs.StringVar(&a.prefix, "prefix", "", "the redisoutbox `prefix` (with -redis)")
	fs.StringVar(&a.customer, "customer", "", "only this customer `ID`")
	fs.StringVar(&a.feature, "feature", "", "only this feature `ID`")
	fs.StringVar(&a.reason, "reason", "", "only dead letters with this `reason` (401, 422, redirect, uncertain, unreadable)")
	fs.BoolVar(&a.all, "all", false, "purge: every dead letter, when no filter is given")
	fs.BoolVar(&a.json, "json", false, "print JSON")
	if err := fs.Parse(argv[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return a, err
		}
		return a, errUsage{err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return a, errUsage{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case (a.path == "") == (a.redisURL == ""):
		return a, errUsage{"give the outbox: -path FILE or -redis URL -prefix P"}
	case a.redisURL != "" && a.prefix == "":
		return a, errUsage{"-redis needs -prefix"}
	case a.path != "" && a.prefix != "":
		return a, errUsage{"-prefix goes with -redis, not -path"}
	case a.cmd == "purge" && !a.all && a.customer == "" && a.feature == "" && a.reason == "":
		return a, errUsage{"purge deletes dead letters for good: select them with -customer, -feature or -reason, or give -all"}
	}
	return a, nil
}

// match is the filter the flags make, for dead letters.
func (a args) match(dl usage.DeadLetter) bool {
	return a.matchPair(dl.Report.CustomerID, dl.Report.FeatureID) && (a.reason == "" || dl.Reason == a.reason)
}

func (a args) matchPair(customer, feature string) bool {
	return (a.customer == "" || customer == a.customer) && (a.feature == "" || feature == a.feature)
}

func run(argv []string, stdout, stderr io.Writer) int {
	a, err := parse(argv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kelviq-usage: %v\n%s", err, usageText)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ob, name, err := open(ctx, a)
	if err != nil {
		fmt.Fprintf(stderr, "kelviq-usage: %v\n", err)
		return 2
	}
	defer ob.Close()
	var matched int
	switch a.cmd {
	case "inspect":
		matched, err = inspect(ctx, ob, a, stdout)
	case "requeue":
		matched, err = ob.RequeueDeadLetters(ctx, a.match)
		if err == nil {
			report(stdout, a.json, "requeued", matched, name)
		}
	case "purge":
		matched, err = ob.PurgeDeadLetters(ctx, a.match)
		if err == nil {
			report(stdout, a.json, "purged", matched, name)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kelviq-usage: %s %s: %v\n", a.cmd, name, err)
		return 2
	}
	if matched == 0 {
		return 1
	}
	return 0
}
