package entitlements

import (
	"testing"

	"github.com/kelviq/kelviq-go/kelviq"
)

// Two fetches of one customer can run at once (Invalidate forgets the
// shared one, and the next check starts another), and their flights can
// register in either order. An Invalidate flags every one of them: a fetch
// it leaves unflagged would cache an answer from before it.
func TestInvalidateFlagsEveryFlight(t *testing.T) {
	cl, err := kelviq.NewClient(kelviq.WithServerKey("sk_test_flights"), kelviq.WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cl)
	if err != nil {
		t.Fatal(err)
	}
	older := c.startFlight("cust")
	newer := c.startFlight("cust") // registered first, or after: both run
	other := c.startFlight("other")
	c.Invalidate("cust")
	if !c.invalidated(older) || !c.invalidated(newer) {
		t.Fatalf("invalidated: older %v, newer %v; want both", c.invalidated(older), c.invalidated(newer))
	}
	if c.invalidated(other) {
		t.Fatal("another customer's fetch was flagged")
	}
	c.endFlight("cust", newer)
	c.Invalidate("cust")
	c.endFlight("cust", older)
	c.endFlight("other", other)
	if len(c.flights) != 0 {
		t.Fatalf("%d customers left in flights, want 0", len(c.flights))
	}
}
