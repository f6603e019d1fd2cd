package kelviqtest

import (
	"fmt"
	"strings"
	"testing"
)

// An object larger than Limits.StateBytes on its own is answered and not
// kept, as documented; it must not take every other object with it. Before,
// trim dropped the oldest of the kind holding the most bytes until the state
// fit, so the huge newest customer pushed out every older customer first,
// and went last: one request emptied the fake.
func TestObjectOverStateBytesAloneKeepsTheOthers(t *testing.T) {
	srv := NewServer(t, WithLimits(Limits{StateBytes: 100 << 10}), WithoutRecording())
	for i := range 5 {
		mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": fmt.Sprintf("small%d", i)})
	}
	blob := strings.Repeat("m", 300<<10)
	mustSend(t, srv, 201, "POST", "/customers/", map[string]any{"customerId": "huge", "metadata": map[string]any{"blob": blob}})
	st := srv.Stats()
	if st.Stored.Customers != 5 || st.Dropped.Customers != 1 {
		t.Errorf("after one customer over StateBytes alone: %+v; want the 5 small ones kept, the huge one dropped", st)
	}
	mustSend(t, srv, 200, "PATCH", "/customers/small0/", map[string]any{"name": "still here"})
	// A usage pair, an organization and a checkout session too large alone
	// are not kept either, and leave the others of their kind.
	mustSend(t, srv, 200, "POST", "/report/usage/", map[string]any{"customerId": "small0", "featureId": "f", "value": 1, "behaviour": "SET"})
	mustSend(t, srv, 200, "POST", "/report/usage/", map[string]any{"customerId": "small0", "featureId": strings.Repeat("f", 200<<10), "value": 1, "behaviour": "SET"})
	if st := srv.Stats(); st.Stored.UsagePairs != 1 || st.Dropped.UsagePairs != 1 || st.Stored.Customers != 5 {
		t.Errorf("after a usage pair over StateBytes alone: %+v; want the first pair and the customers kept", st)
	}
}
