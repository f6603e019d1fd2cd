package entitlements

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// maxFailures bounds the customers with no known answer whose failed fetch
// is remembered (see failures). Past it the oldest is forgotten: that
// customer's next check calls again, which costs a request, not memory.
const maxFailures = 16_384

// failure is a failed fetch of a customer with nothing known of it: until
// retryAt, its checks fail at once with err instead of calling again.
type failure struct {
	retryAt  time.Time
	failedAt time.Time
	err      error
}

// failures remembers the failed fetches of customers with no known answer,
// as the kept copy of a last known value does for the others (snapshot's
// retryAt): without it, every check of such a customer during an outage
// made its own call and waited for it. It is kept apart from memory so
// that an outage full of unknown customers does not evict the last known
// values that stand in for the known ones.
type failures struct {
	c *lru.Cache[string, *failure]
}

func newFailures(maxCustomers int) (failures, error) {
	c, err := lru.New[string, *failure](min(maxCustomers, maxFailures))
	return failures{c: c}, err
}

// current returns the customer's failure while its pause lasts.
func (f failures) current(customer string, now time.Time) *failure {
	fl, ok := f.c.Peek(customer)
	if !ok || !now.Before(fl.retryAt) {
		return nil
	}
	return fl
}

func (f failures) put(customer string, fl *failure) { f.c.Add(customer, fl) }

func (f failures) forget(customer string) { f.c.Remove(customer) }
