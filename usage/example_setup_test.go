package usage_test

import (
	"context"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
)

// A production setup: the outbox on a persistent disk, failures logged,
// and reports kelviq refuses handed to your own alerting.
func ExampleNewReporter() {
	client, err := kelviq.NewClient(kelviq.FromEnv(), kelviq.WithRetries(0)) // the Reporter retries
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	reporter, err := usage.NewReporter(client,
		usage.WithPath("/var/lib/myapp/kelviq-usage.db"),
		usage.WithLogger(logger),
		usage.WithOnDropped(func(r usage.Report, err error) {
			logger.Error("usage report dropped", "customer", r.CustomerID, "feature", r.FeatureID,
				"value", r.Value, "behaviour", r.Behaviour, "error", err)
		}),
	)
	if err != nil {
		log.Fatal(err) // e.g. usage.ErrLocked: another process holds the file
	}
	defer func() {
		// On shutdown: a few seconds to send; the rest waits on disk.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := reporter.Close(ctx); err != nil {
			logger.Error("closing the usage outbox", "error", err)
		}
	}()
	// … reporter.Report(ctx, customerID, featureID, value, behaviour) …
}
