package usage_test

import (
	"path/filepath"
	"testing"

	"github.com/kelviq/kelviq-go/usage"
	"github.com/kelviq/kelviq-go/usage/outboxtest"
)

// The file and memory outboxes keep the Outbox contract. Their leases last
// minutes (one Reporter claims), so the suite's lease-expiry subtests skip.
func TestFileOutboxConformance(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T) usage.Outbox {
		o, err := usage.OpenFileOutbox(filepath.Join(t.TempDir(), "outbox.db"))
		if err != nil {
			t.Fatal(err)
		}
		return o
	})
}

func TestMemoryOutboxConformance(t *testing.T) {
	outboxtest.Run(t, func(*testing.T) usage.Outbox { return usage.NewMemoryOutbox() })
}
