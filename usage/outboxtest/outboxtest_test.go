package outboxtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/outboxtest"
)

func TestMemoryOutbox(t *testing.T) {
	outboxtest.Run(t, func(*testing.T) usage.Outbox { return usage.NewMemoryOutbox() })
}

// broken is a memory outbox with one bug.
type broken struct {
	*usage.MemoryOutbox
	bug string
}

func (b broken) Claim(ctx context.Context, now time.Time, maxPairs, perPair int) ([]*usage.Lease, time.Time, error) {
	if b.bug == "ignore-perPair" {
		perPair++
	}
	ls, next, err := b.MemoryOutbox.Claim(ctx, now, maxPairs, perPair)
	for _, l := range ls {
		switch b.bug {
		case "reorder":
			slices.Reverse(l.Records)
		case "forget-sending":
			for i := range l.Records {
				l.Records[i].Sending = false
			}
		}
	}
	return ls, next, err
}

func (b broken) Done(ctx context.Context, l *usage.Lease, delivered int, notBefore time.Time) error {
	err := b.MemoryOutbox.Done(ctx, l, delivered, notBefore)
	if b.bug == "hide-lease-lost" && errors.Is(err, usage.ErrLeaseLost) {
		return nil
	}
	return err
}

func (b broken) PurgeDeadLetters(ctx context.Context, match func(usage.DeadLetter) bool) (int, error) {
	if b.bug == "purge-all" {
		match = nil
	}
	return b.MemoryOutbox.PurgeDeadLetters(ctx, match)
}

// The suite fails an outbox with a bug, in the subtest about it. Each
// broken outbox runs in a child process (this test binary again), whose
// failure is the expected outcome.
func TestBrokenOutboxesFail(t *testing.T) {
	if bug := os.Getenv("OUTBOXTEST_BUG"); bug != "" {
		outboxtest.Run(t, func(*testing.T) usage.Outbox { return broken{usage.NewMemoryOutbox(), bug} })
		return
	}
	for _, tc := range []struct{ bug, subtest string }{
		{"reorder", "AppendKeepsOrderPerPair"},
		{"ignore-perPair", "ClaimLimits"},
		{"hide-lease-lost", "DoneAfterLeaseLost"},
		{"forget-sending", "MarkSeenByNextClaimer"},
		{"purge-all", "PurgeFilter"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenOutboxesFail$", "-test.v")
		cmd.Env = append(os.Environ(), "OUTBOXTEST_BUG="+tc.bug)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--- FAIL: TestBrokenOutboxesFail/"+tc.subtest) {
			t.Errorf("bug %s: the suite did not fail %s (err %v):\n%s", tc.bug, tc.subtest, err, out)
		}
	}
}
