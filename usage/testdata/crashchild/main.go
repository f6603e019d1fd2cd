// Command crashchild is the child process of usage's crash test: it
// reports numbered DELTAs (value n for the n-th report of a pair) from one
// goroutine per feature as fast as it can, and prints "try <pair> <n>"
// before each Report and "ack <pair> <n>" after each one that returned
// nil, until it is killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
)

func main() {
	path := flag.String("path", "", "outbox file")
	url := flag.String("url", "", "kelviq base URL")
	pairs := flag.Int("pairs", 8, "features (one goroutine each)")
	flag.Parse()
	client, err := kelviq.NewClient(kelviq.WithBaseURL(*url), kelviq.WithServerKey("sk_test_usage"),
		kelviq.WithRetries(0), kelviq.WithUserAgent("crashchild"))
	if err != nil {
		fail(err)
	}
	r, err := usage.NewReporter(client, usage.WithPath(*path))
	if err != nil {
		fail(err)
	}
	for p := range *pairs {
		go func() {
			feature := "f" + strconv.Itoa(p)
			for n := 1; ; n++ {
				// One write per line: a pipe keeps writes under 4 KiB whole.
				_, _ = fmt.Fprintf(os.Stdout, "try %d %d\n", p, n)
				if err := r.Report(context.Background(), "crash", feature, n, api.ReportUsageRequestBehaviourDELTA); err != nil {
					fail(err)
				}
				_, _ = fmt.Fprintf(os.Stdout, "ack %d %d\n", p, n)
			}
		}()
	}
	select {}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "crashchild:", err)
	os.Exit(3)
}
