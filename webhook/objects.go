package webhook

import (
	"encoding/json"
	"time"
)

// The typed payloads below map every field of kelviq's documented example deliveries.
// Conventions: money is a decimal string exactly as sent ("10.00", "40", "20.0") next to
// its integer minor units (1000 = $10.00 in USD); instants are [time.Time]; calendar
// dates ("2026-04-02") are strings; a field that an example shows as null, or that is
// absent by nature (trial dates, an unlimited usage limit), is a pointer, and a null in
// any other field decodes as the zero value without error. Members kelviq adds later are
// ignored by these types and remain in [EventData.Object] and [Event.Raw].

// Address is a postal address. Every line may be null.
type Address struct {
	// Line1 is the first address line.
	Line1 *string `json:"line1"`
	// Line2 is the second address line.
	Line2 *string `json:"line2"`
	// City is the city.
	City *string `json:"city"`
	// State is the state, province or region.
	State *string `json:"state"`
	// PostalCode is the postal or ZIP code.
	PostalCode *string `json:"postal_code"`
	// Country is the ISO 3166-1 alpha-2 country code, for example "IN".
	Country *string `json:"country"`
}

// CustomerSummary is the customer embedded in other objects.
type CustomerSummary struct {
	// ID is kelviq's id of the customer.
	ID string `json:"id"`
	// Name is the customer's name.
	Name string `json:"name"`
	// Email is the customer's email address.
	Email string `json:"email"`
	// CustomerID is your own id of the customer (the external id given at creation).
	CustomerID string `json:"customer_id"`
	// BillingAddress is the customer's billing address; it may be empty.
	BillingAddress Address `json:"billing_address"`
}

// Plan identifies a plan version.
type Plan struct {
	// Name is the plan's display name.
	Name string `json:"name"`
	// Version is the plan version.
	Version int `json:"version"`
	// Identifier is the plan's identifier, for example "pro".
	Identifier string `json:"identifier"`
}

// Product identifies a product.
type Product struct {
	// ID is kelviq's id of the product.
	ID string `json:"id"`
	// Name is the product's name.
	Name string `json:"name"`
}

// Feature identifies a feature.
type Feature struct {
	// ID is kelviq's id of the feature.
	ID string `json:"id"`
	// Name is the feature's display name.
	Name string `json:"name"`
	// Identifier is the feature's identifier, for example "api-calls".
	Identifier string `json:"identifier"`
	// FeatureType is the kind of feature, for example "METER".
	FeatureType string `json:"feature_type"`
}

// CheckoutSession is data.object of [EventCheckoutCompleted] (object
// "checkout_session").
type CheckoutSession struct {
	// ID is the checkout session's id ("cs_…").
	ID string `json:"id"`
	// Object is "checkout_session".
	Object string `json:"object"`
	// Status is the session's status, for example "success".
	Status string `json:"status"`
	// CheckoutType is what was bought, for example "ONE_TIME".
	CheckoutType string `json:"checkout_type"`
	// CustomerID is kelviq's id of the customer.
	CustomerID string `json:"customer_id"`
	// Customer is the customer who checked out.
	Customer CustomerSummary `json:"customer"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// Amount is the amount charged, a decimal string.
	Amount string `json:"amount"`
	// AmountUnits is Amount in minor units (cents).
	AmountUnits int64 `json:"amount_units"`
	// Currency is the ISO 4217 currency code, for example "USD".
	Currency string `json:"currency"`
	// DiscountCode is the discount code applied, or "".
	DiscountCode string `json:"discount_code"`
	// Features lists feature quantities chosen at checkout, as raw JSON; null in the
	// documented example, its shape is undocumented.
	Features json.RawMessage `json:"features"`
	// Plan is the plan bought.
	Plan Plan `json:"plan"`
	// Product is the product bought.
	Product Product `json:"product"`
	// BillingAddress is the billing address entered at checkout.
	BillingAddress Address `json:"billing_address"`
	// Metadata is the metadata given when the session was created, verbatim.
	Metadata map[string]any `json:"metadata"`
	// Data holds the session's settings and what the customer entered.
	Data CheckoutSessionData `json:"data"`
	// CreatedOn is when the session was created.
	CreatedOn time.Time `json:"created_on"`
	// ModifiedOn is when the session last changed.
	ModifiedOn time.Time `json:"modified_on"`
}

// CheckoutSessionData is the "data" member of a [CheckoutSession].
type CheckoutSessionData struct {
	// Name is the name the customer entered.
	Name string `json:"name"`
	// Email is the email address the customer entered.
	Email string `json:"email"`
	// Referer is the page the customer came from, or nil.
	Referer *string `json:"referer"`
	// CancelURL is where the customer is sent on cancel, or nil.
	CancelURL *string `json:"cancel_url"`
	// SuccessURL is where the customer is sent on success, or nil.
	SuccessURL *string `json:"success_url"`
	// TaxBehavior says whether prices include tax, for example "EXCLUSIVE".
	TaxBehavior string `json:"tax_behavior"`
	// DiscountsEnabled reports whether discount codes could be entered.
	DiscountsEnabled bool `json:"discounts_enabled"`
}

// Customer is data.object of customer.* events (object "customer").
type Customer struct {
	// ID is kelviq's id of the customer.
	ID string `json:"id"`
	// Object is "customer".
	Object string `json:"object"`
	// CustomerID is your own id of the customer (the external id given at creation).
	CustomerID string `json:"customer_id"`
	// Name is the customer's name.
	Name string `json:"name"`
	// Email is the customer's email address.
	Email string `json:"email"`
	// Details holds server-added details about the customer, verbatim.
	Details map[string]any `json:"details"`
	// Metadata holds your key-value pairs for the customer.
	Metadata map[string]string `json:"metadata"`
	// BillingAddress is the customer's billing address; it may be empty.
	BillingAddress Address `json:"billing_address"`
	// Subscriptions is the number of the customer's subscriptions.
	Subscriptions int `json:"subscriptions"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// CreatedOn is when the customer was created.
	CreatedOn time.Time `json:"created_on"`
	// ModifiedOn is when the customer last changed.
	ModifiedOn time.Time `json:"modified_on"`
}

// Invoice is data.object of invoice.* events (object "invoice").
type Invoice struct {
	// ID is the invoice number, for example "INV-20260402055633-FCM4B".
	ID string `json:"id"`
	// Object is "invoice".
	Object string `json:"object"`
	// Status is the invoice's status, for example "OPEN", "PAID", "PAYMENT_FAILED".
	Status string `json:"status"`
	// PaidAt is when the invoice was paid, or nil.
	PaidAt *time.Time `json:"paid_at"`
	// AmountTotal is the total due, a decimal string.
	AmountTotal string `json:"amount_total"`
	// AmountTotalUnits is AmountTotal in minor units (cents).
	AmountTotalUnits int64 `json:"amount_total_units"`
	// Currency is the ISO 4217 currency code, for example "USD".
	Currency string `json:"currency"`
	// DueDate is when the invoice is due, as sent, or nil; null in every documented
	// example, so its format (date or date-time) is unknown.
	DueDate *string `json:"due_date"`
	// OrderID is the id of the order that paid the invoice, or nil.
	OrderID *string `json:"order_id"`
	// CustomerID is kelviq's id of the customer.
	CustomerID string `json:"customer_id"`
	// Customer is the customer billed.
	Customer CustomerSummary `json:"customer"`
	// SubscriptionID is the id of the subscription billed.
	SubscriptionID string `json:"subscription_id"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// Product is the product billed.
	Product Product `json:"product"`
	// CreatedOn is when the invoice was created.
	CreatedOn time.Time `json:"created_on"`
	// ModifiedOn is when the invoice last changed.
	ModifiedOn time.Time `json:"modified_on"`
}

// Order is data.object of order.* events (object "order").
type Order struct {
	// ID is the order number, for example "ORD-20260401173639-H8IO7".
	ID string `json:"id"`
	// Object is "order".
	Object string `json:"object"`
	// Status is the order's status, for example "PENDING", "COMPLETE", "REFUNDED".
	Status string `json:"status"`
	// BillingType is how the order bills, for example "ONE_TIME".
	BillingType string `json:"billing_type"`
	// CustomerID is kelviq's id of the customer.
	CustomerID string `json:"customer_id"`
	// Customer is the customer who ordered.
	Customer CustomerSummary `json:"customer"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// IsRenewal reports whether the order renews a subscription.
	IsRenewal bool `json:"is_renewal"`
	// PaidAt is when the order was paid, or nil.
	PaidAt *time.Time `json:"paid_at"`
	// AmountTotal is the order total, a decimal string.
	AmountTotal string `json:"amount_total"`
	// AmountTotalUnits is AmountTotal in minor units (cents).
	AmountTotalUnits int64 `json:"amount_total_units"`
	// Currency is the ISO 4217 currency code, for example "USD".
	Currency string `json:"currency"`
	// SubscriptionID is the id of the subscription the order belongs to.
	SubscriptionID string `json:"subscription_id"`
	// Product is the product ordered.
	Product Product `json:"product"`
	// Plan is the plan ordered.
	Plan Plan `json:"plan"`
	// Features lists the order's feature quantities, as raw JSON; null in the
	// documented examples, its shape is undocumented.
	Features json.RawMessage `json:"features"`
	// CreatedOn is when the order was created.
	CreatedOn time.Time `json:"created_on"`
	// ModifiedOn is when the order last changed.
	ModifiedOn time.Time `json:"modified_on"`
}

// PaymentMethod is data.object of payment_method.* events (object "payment_method").
type PaymentMethod struct {
	// ID is kelviq's id of the payment method. Unlike other objects' ids it is a
	// number.
	ID int64 `json:"id"`
	// Object is "payment_method".
	Object string `json:"object"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// CustomerID is the customer's id; in the documented examples it is your own id
	// (Customer.CustomerID), not kelviq's.
	CustomerID string `json:"customer_id"`
	// Customer is the customer who owns the payment method.
	Customer CustomerSummary `json:"customer"`
	// MethodType is the kind of payment method, for example "card".
	MethodType string `json:"method_type"`
	// MethodData describes the payment method.
	MethodData PaymentMethodData `json:"method_data"`
	// IsDefault reports whether it is the customer's default payment method.
	IsDefault bool `json:"is_default"`
	// Status is the payment method's status, for example "succeeded".
	Status string `json:"status"`
}

// PaymentMethodData is the "method_data" member of a [PaymentMethod]. kelviq documents
// it for cards; members of other kinds of payment method are not mapped.
type PaymentMethodData struct {
	// Brand is the card brand, for example "visa".
	Brand string `json:"brand"`
	// Last4 is the last four digits of the card number.
	Last4 string `json:"last4"`
	// ExpMonth is the expiry month, 1 to 12.
	ExpMonth int `json:"exp_month"`
	// ExpYear is the four-digit expiry year.
	ExpYear int `json:"exp_year"`
	// Funding is the card's funding, for example "credit".
	Funding string `json:"funding"`
	// Country is the issuing country, an ISO 3166-1 alpha-2 code.
	Country string `json:"country"`
}

// Refund is data.object of refund.* events (object "refund").
type Refund struct {
	// ID is kelviq's id of the refund.
	ID string `json:"id"`
	// Object is "refund".
	Object string `json:"object"`
	// Status is the refund's status, for example "PROCESSING", "SUCCEEDED".
	Status string `json:"status"`
	// Amount is the amount refunded, a decimal string.
	Amount string `json:"amount"`
	// AmountUnits is Amount in minor units (cents).
	AmountUnits int64 `json:"amount_units"`
	// Currency is the ISO 4217 currency code, for example "USD".
	Currency string `json:"currency"`
	// Reason is why the refund was made, for example "REQUESTED_BY_CUSTOMER".
	Reason string `json:"reason"`
	// OrderID is the id of the refunded order.
	OrderID string `json:"order_id"`
	// Customer is the customer refunded.
	Customer CustomerSummary `json:"customer"`
	// SubscriptionID is the id of the subscription of the refunded order.
	SubscriptionID string `json:"subscription_id"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// CreatedOn is when the refund was created.
	CreatedOn time.Time `json:"created_on"`
	// ModifiedOn is when the refund last changed.
	ModifiedOn time.Time `json:"modified_on"`
}

// Subscription is data.object of subscription.* events (object "subscription"), and
// data.previous_attributes of [EventSubscriptionPlanChanged].
type Subscription struct {
	// ID is kelviq's id of the subscription.
	ID string `json:"id"`
	// Object is "subscription".
	Object string `json:"object"`
	// Status is the subscription's status, for example "active", "canceled".
	Status string `json:"status"`
	// Amount is the price per period, a decimal string.
	Amount string `json:"amount"`
	// AmountUnits is the price per period in minor units (cents).
	AmountUnits int64 `json:"amount_units"`
	// Currency is the ISO 4217 currency code, for example "USD".
	Currency string `json:"currency"`
	// Recurrence is the billing period, for example "1 month".
	Recurrence string `json:"recurrence"`
	// StartDate is the first day of the subscription, "YYYY-MM-DD".
	StartDate string `json:"start_date"`
	// EndDate is the last day of the subscription, "YYYY-MM-DD", or nil.
	EndDate *string `json:"end_date"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// Features lists the subscription's feature quantities, as raw JSON; null in the
	// documented examples, its shape is undocumented.
	Features json.RawMessage `json:"features"`
	// Plan is the subscribed plan.
	Plan Plan `json:"plan"`
	// Product is the subscribed product.
	Product Product `json:"product"`
	// Customer is the subscriber.
	Customer CustomerSummary `json:"customer"`
	// BillingPeriodStartTime is when the current billing period started.
	BillingPeriodStartTime time.Time `json:"billing_period_start_time"`
	// BillingPeriodEndTime is when the current billing period ends.
	BillingPeriodEndTime time.Time `json:"billing_period_end_time"`
	// TrialStart is when the trial started, or nil without a trial.
	TrialStart *time.Time `json:"trial_start"`
	// TrialEnd is when the trial ends, or nil without a trial.
	TrialEnd *time.Time `json:"trial_end"`
	// CreatedOn is when the subscription was created.
	CreatedOn time.Time `json:"created_on"`
	// ModifiedOn is when the subscription last changed.
	ModifiedOn time.Time `json:"modified_on"`
}

// UsageAlert is data.object of [EventFeatureUsageAlert] (object
// "feature_usage_alert").
type UsageAlert struct {
	// ID is kelviq's id of the alert.
	ID string `json:"id"`
	// Object is "feature_usage_alert".
	Object string `json:"object"`
	// Feature is the metered feature.
	Feature Feature `json:"feature"`
	// Customer is the customer whose usage crossed the threshold.
	Customer CustomerSummary `json:"customer"`
	// UsageLimit is the usage allowed in the period, or nil when unlimited.
	UsageLimit *int64 `json:"usage_limit"`
	// CurrentUsage is the usage so far in the period.
	CurrentUsage int64 `json:"current_usage"`
	// ThresholdType says how ThresholdValue is measured, for example "PERCENTAGE".
	ThresholdType string `json:"threshold_type"`
	// ThresholdValue is the threshold that was crossed, for example 90 (percent).
	ThresholdValue float64 `json:"threshold_value"`
	// PeriodStartTime is when the usage period started.
	PeriodStartTime time.Time `json:"period_start_time"`
	// PeriodEndTime is when the usage period ends, or nil.
	PeriodEndTime *time.Time `json:"period_end_time"`
	// SubscriptionID is the id of the subscription granting the feature.
	SubscriptionID string `json:"subscription_id"`
	// Organization is kelviq's id of your organization.
	Organization string `json:"organization"`
	// CreatedOn is when the alert was created.
	CreatedOn time.Time `json:"created_on"`
	// ModifiedOn is when the alert last changed.
	ModifiedOn time.Time `json:"modified_on"`
}
