package entitlements

import (
	"context"
	"strings"

	"github.com/kelviq/kelviq-go/webhook"
)

// WebhookHandlerFunc wraps next, a callback for webhook.NewHandler, so that
// every subscription event (subscription.created, .updated, .plan_changed,
// .cancelled) and order event (order.created, .updated, .refunded) first
// invalidates the customer it names, then goes to next (which may be nil):
//
//	checker, _ := entitlements.New(client)
//	http.Handle("POST /webhooks/kelviq", webhook.NewHandler(secret,
//		checker.WebhookHandlerFunc(func(ctx context.Context, e *webhook.Event) error {
//			// your own handling of the event, if any
//			return nil
//		})))
//
// The customer is data.object.customer.customer_id: your own ID of the
// customer, the one you check with. An event of those kinds whose object
// cannot be read or names no customer invalidates nothing and is logged
// (WithLogger); it is still passed to next. Other events go to next
// untouched.
//
// Invalidation is per process and shared store: with several instances and
// no shared store, each instance's memory still keeps its copy until the
// TTL; give every instance the store, or a short TTL.
func (c *Checker) WebhookHandlerFunc(next webhook.HandlerFunc) webhook.HandlerFunc {
	return func(ctx context.Context, e *webhook.Event) error {
		c.InvalidateEvent(ctx, e)
		if next == nil {
			return nil
		}
		return next(ctx, e)
	}
}

// InvalidateEvent invalidates the customer a subscription or order event
// names (see WebhookHandlerFunc) and returns that customer's ID; it returns
// "" for any other event, or one that names no customer.
func (c *Checker) InvalidateEvent(ctx context.Context, e *webhook.Event) string {
	if e == nil {
		return ""
	}
	var customer string
	var err error
	switch t := string(e.Type); {
	case strings.HasPrefix(t, "subscription."):
		var s *webhook.Subscription
		if s, err = e.Subscription(); err == nil {
			customer = s.Customer.CustomerID
		}
	case strings.HasPrefix(t, "order."):
		var o *webhook.Order
		if o, err = e.Order(); err == nil {
			customer = o.Customer.CustomerID
		}
	default:
		return ""
	}
	if customer == "" {
		if c.cfg.logger != nil {
			c.cfg.logger.WarnContext(ctx, "entitlements: a webhook event names no customer to invalidate", "type", string(e.Type), "event", e.ID, "error", err)
		}
		return ""
	}
	c.Invalidate(customer)
	return customer
}
