package webhook

// EventType is the "type" of an [Event], such as "order.created". It is a string type, so
// types kelviq adds after this package was written are kept as they come.
type EventType string

// The 19 event types kelviq documents, with the object each one's data.object holds.
const (
	// EventCheckoutCompleted is sent when a checkout session completes; data.object is a
	// [CheckoutSession].
	EventCheckoutCompleted EventType = "checkout.completed"

	// EventCustomerCreated is sent when a customer is created; data.object is a
	// [Customer].
	EventCustomerCreated EventType = "customer.created"
	// EventCustomerUpdated is sent when a customer changes; data.object is a [Customer]
	// and data.previous_attributes holds the changed fields' former values.
	EventCustomerUpdated EventType = "customer.updated"

	// EventFeatureUsageAlert is sent when a metered feature's usage crosses an alert
	// threshold; data.object is a [UsageAlert].
	EventFeatureUsageAlert EventType = "feature.usage_alert"

	// EventInvoiceCreated is sent when an invoice is issued; data.object is an [Invoice].
	EventInvoiceCreated EventType = "invoice.created"
	// EventInvoicePaid is sent when an invoice is paid; data.object is an [Invoice] and
	// data.previous_attributes holds the changed fields' former values.
	EventInvoicePaid EventType = "invoice.paid"
	// EventInvoicePaymentFailed is sent when collecting an invoice fails; data.object is
	// an [Invoice].
	EventInvoicePaymentFailed EventType = "invoice.payment_failed"

	// EventOrderCreated is sent when an order is placed; data.object is an [Order].
	EventOrderCreated EventType = "order.created"
	// EventOrderUpdated is sent when an order changes; data.object is an [Order] and
	// data.previous_attributes holds the changed fields' former values.
	EventOrderUpdated EventType = "order.updated"
	// EventOrderRefunded is sent when an order is refunded; data.object is an [Order] and
	// data.previous_attributes holds the changed fields' former values.
	EventOrderRefunded EventType = "order.refunded"

	// EventPaymentMethodCreated is sent when a payment method is added; data.object is a
	// [PaymentMethod].
	EventPaymentMethodCreated EventType = "payment_method.created"
	// EventPaymentMethodUpdated is sent when a payment method changes; data.object is a
	// [PaymentMethod].
	EventPaymentMethodUpdated EventType = "payment_method.updated"
	// EventPaymentMethodDeleted is sent when a payment method is removed; data.object is
	// a [PaymentMethod].
	EventPaymentMethodDeleted EventType = "payment_method.deleted"

	// EventRefundCreated is sent when a refund starts; data.object is a [Refund].
	EventRefundCreated EventType = "refund.created"
	// EventRefundUpdated is sent when a refund changes, for example succeeds;
	// data.object is a [Refund].
	EventRefundUpdated EventType = "refund.updated"

	// EventSubscriptionCreated is sent when a subscription starts; data.object is a
	// [Subscription].
	EventSubscriptionCreated EventType = "subscription.created"
	// EventSubscriptionUpdated is sent when a subscription changes; data.object is a
	// [Subscription] and data.previous_attributes holds the changed fields' former values.
	EventSubscriptionUpdated EventType = "subscription.updated"
	// EventSubscriptionPlanChanged is sent when a subscription moves to another plan;
	// data.object is a [Subscription] and data.previous_attributes holds the whole
	// previous subscription.
	EventSubscriptionPlanChanged EventType = "subscription.plan_changed"
	// EventSubscriptionCancelled is sent when a subscription is cancelled; data.object is
	// a [Subscription] and data.previous_attributes holds the changed fields' former
	// values.
	EventSubscriptionCancelled EventType = "subscription.cancelled"
)

// EventTypes returns the 19 documented event types, sorted. The slice is new at each
// call. An [Event] of a type not in it is still delivered: check with [EventType.Known].
func EventTypes() []EventType {
	return []EventType{
		EventCheckoutCompleted,
		EventCustomerCreated,
		EventCustomerUpdated,
		EventFeatureUsageAlert,
		EventInvoiceCreated,
		EventInvoicePaid,
		EventInvoicePaymentFailed,
		EventOrderCreated,
		EventOrderRefunded,
		EventOrderUpdated,
		EventPaymentMethodCreated,
		EventPaymentMethodDeleted,
		EventPaymentMethodUpdated,
		EventRefundCreated,
		EventRefundUpdated,
		EventSubscriptionCancelled,
		EventSubscriptionCreated,
		EventSubscriptionPlanChanged,
		EventSubscriptionUpdated,
	}
}

// Known reports whether t is one of the 19 event types kelviq documents.
func (t EventType) Known() bool {
	switch t {
	case EventCheckoutCompleted,
		EventCustomerCreated, EventCustomerUpdated,
		EventFeatureUsageAlert,
		EventInvoiceCreated, EventInvoicePaid, EventInvoicePaymentFailed,
		EventOrderCreated, EventOrderUpdated, EventOrderRefunded,
		EventPaymentMethodCreated, EventPaymentMethodUpdated, EventPaymentMethodDeleted,
		EventRefundCreated, EventRefundUpdated,
		EventSubscriptionCreated, EventSubscriptionUpdated,
		EventSubscriptionPlanChanged, EventSubscriptionCancelled:
		return true
	}
	return false
}
