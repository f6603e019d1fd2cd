// Quickstart walks through the main paths of kelviq-go and prints what
// each call returns: provisioning a partner organization and looking it up
// by its external id, listing customers with a page iterator, reading a
// customer's entitlements, reporting usage, and creating a checkout
// session.
//
//	go run ./examples/quickstart
//
// With no key in the environment it needs no account and no network: it
// starts kelviqtest, the spec-driven fake kelviq, in this process, and the
// answers are the API spec's examples. With KELVIQ_SANDBOX_SERVER_API_KEY
// set (and KELVIQ_PARTNER_KEY for the partner steps) it calls the kelviq
// sandbox instead, configured by kelviq.FromEnv (KELVIQ_BASE_URL and
// KELVIQ_EDGE_URL are honoured, so it can also call a running
// cmd/kelviq-mock). It never calls production: the sandbox is chosen
// explicitly, whatever KELVIQ_ENV says. Against the sandbox it creates
// real sandbox objects (an organization, usage, a checkout session).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/signal"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run does the walk-through, writing to out. It reads the environment
// (os.Getenv, through kelviq.FromEnv) to choose the fake or the sandbox.
func run(ctx context.Context, out io.Writer) error {
	c, partner, closeFake, err := connect(out)
	if err != nil {
		return err
	}
	defer closeFake()

	q := &quickstart{c: c, out: out, partner: partner, stamp: time.Now().UTC().Format("20060102-150405")}
	steps := []struct {
		title string
		do    func(context.Context) error
	}{
		{"Provision a partner organization", q.provision},
		{"Look it up by external id", q.lookup},
		{"List customers with the page iterator", q.customers},
		{"Read the customer's entitlements", q.entitlements},
		{"Report usage", q.reportUsage},
		{"Create a checkout session", q.checkout},
	}
	failed := 0
	for i, step := range steps {
		fmt.Fprintf(out, "\n%d. %s\n", i+1, step.title)
		if err := step.do(ctx); err != nil {
			if errors.Is(err, errSkipped) {
				continue
			}
			failed++
			fmt.Fprintf(out, "   failed: %v\n", err)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d steps failed", failed, len(steps))
	}
	fmt.Fprintf(out, "\nDone: all %d steps succeeded.\n", len(steps))
	return nil
}

// connect makes the client: against an in-process fake when there is no
// sandbox key, else against the sandbox. The first line it prints says
// which. closeFake stops the fake (a no-op for the sandbox).
func connect(out io.Writer) (c *kelviq.Client, partner bool, closeFake func(), err error) {
	if os.Getenv("KELVIQ_SANDBOX_SERVER_API_KEY") == "" {
		h, err := kelviqtest.NewHandler()
		if err != nil {
			return nil, false, nil, err
		}
		srv := httptest.NewServer(h)
		fmt.Fprintf(out, "No KELVIQ_SANDBOX_SERVER_API_KEY in the environment: using kelviqtest, a fake kelviq started in this process at %s; its answers are the API spec's examples.\n", srv.URL)
		c, err = kelviq.NewClient(
			kelviq.WithBaseURL(srv.URL),
			kelviq.WithServerKey(kelviqtest.ServerKey),
			kelviq.WithPartnerKey(kelviqtest.PartnerKey),
			kelviq.WithUserAgent("kelviq-go-quickstart"),
		)
		if err != nil {
			srv.Close()
			return nil, false, nil, err
		}
		return c, true, srv.Close, nil
	}

	where := "the kelviq sandbox"
	if u := os.Getenv("KELVIQ_BASE_URL"); u != "" {
		where = u + " (KELVIQ_BASE_URL)"
	}
	partner = os.Getenv("KELVIQ_PARTNER_KEY") != ""
	keys := "KELVIQ_SANDBOX_SERVER_API_KEY"
	if partner {
		keys += " and KELVIQ_PARTNER_KEY"
	}
	fmt.Fprintf(out, "Using %s with %s from the environment.\n", where, keys)
	c, err = kelviq.NewClient(
		kelviq.FromEnv(),
		kelviq.WithEnvironment(kelviq.Sandbox), // never production, whatever KELVIQ_ENV says
		kelviq.WithUserAgent("kelviq-go-quickstart"),
	)
	if err != nil {
		return nil, false, nil, err
	}
	return c, partner, func() {}, nil
}

// errSkipped ends a step that cannot run; it says why itself.
var errSkipped = errors.New("skipped")

// quickstart holds what the steps learn from each other.
type quickstart struct {
	c       *kelviq.Client
	out     io.Writer
	partner bool
	stamp   string // makes the sandbox objects' ids unique

	externalID string // of the provisioned organization
	customerID string // the customer the later steps use
	meterID    string // a metered feature of that customer
}

func (q *quickstart) say(format string, args ...any) {
	fmt.Fprintf(q.out, "   "+format+"\n", args...)
}

// unexpected is the error for a call that succeeded with a status the
// example does not handle.
func unexpected(res interface{ StatusCode() int }) error {
	return fmt.Errorf("unexpected status %d", res.StatusCode())
}

func (q *quickstart) provision(ctx context.Context) error {
	if !q.partner {
		q.say("skipped: set KELVIQ_PARTNER_KEY (kvqp_…) to provision organizations")
		return errSkipped
	}
	q.externalID = "quickstart-" + q.stamp
	name := "Quickstart " + q.stamp
	res, err := q.c.ProvisionPartnerOrganizationWithResponse(ctx, api.ProvisionPartnerOrganizationJSONRequestBody{
		ExternalID:   q.externalID,
		Email:        "owner+" + q.stamp + "@example.com",
		BusinessName: &name,
	})
	if err != nil {
		return err
	}
	org := res.JSON201
	if org == nil {
		return unexpected(res)
	}
	q.say("organization %s (slug %s, external id %s)", uuidOrNone(org.OrganizationIdentifier), org.OrganizationSlug.GetOrEmpty(), org.PartnerExternalID.GetOrEmpty())
	if org.ServerKey.GetOrEmpty() != "" {
		q.say("its server and client keys came back in the response (not printed)")
	}
	return nil
}

func (q *quickstart) lookup(ctx context.Context) error {
	if q.externalID == "" {
		q.say("skipped: no organization was provisioned")
		return errSkipped
	}
	res, err := q.c.RetrievePartnerOrganizationByExternalIDWithResponse(ctx, q.externalID)
	if err != nil {
		return err
	}
	org := res.JSON200
	if org == nil {
		return unexpected(res)
	}
	q.say("external id %s is organization %s (slug %s)", q.externalID, uuidOrNone(org.OrganizationIdentifier), org.OrganizationSlug.GetOrEmpty())
	return nil
}

// maxShown bounds the customers printed; the iterator stops fetching
// pages when the loop breaks.
const maxShown = 5

func (q *quickstart) customers(ctx context.Context) error {
	size := 20
	n := 0
	for cust, err := range q.c.ListCustomersIter(ctx, &api.ListCustomersParams{PageSize: &size}) {
		if err != nil {
			return err
		}
		if n == maxShown {
			q.say("… (stopped after %d; the iterator fetches further pages only when the loop asks)", maxShown)
			break
		}
		n++
		id := deref(cust.CustomerID)
		q.say("%-24s %-20s %s", id, cust.Name.GetOrEmpty(), cust.Email.GetOrEmpty())
		if q.customerID == "" {
			q.customerID = id
		}
	}
	if n > 0 {
		return nil
	}

	// An empty account: make a customer for the next steps.
	id := "quickstart-" + q.stamp
	res, err := q.c.CreateCustomerWithResponse(ctx, api.CreateCustomerJSONRequestBody{CustomerID: id})
	if err != nil {
		return err
	}
	if res.JSON201 == nil {
		return unexpected(res)
	}
	q.customerID = deref(res.JSON201.CustomerID)
	q.say("no customers yet: created customer %s", q.customerID)
	return nil
}

func (q *quickstart) entitlements(ctx context.Context) error {
	if q.customerID == "" {
		q.say("skipped: no customer")
		return errSkipped
	}
	res, err := q.c.GetCustomerEntitlementsWithResponse(ctx, &api.GetCustomerEntitlementsParams{CustomerID: q.customerID})
	if err != nil {
		return err
	}
	if res.JSON200 == nil {
		return unexpected(res)
	}
	q.say("customer %s:", deref(res.JSON200.CustomerID))
	if len(res.JSON200.Entitlements) == 0 {
		q.say("  no entitlements")
	}
	for _, e := range res.JSON200.Entitlements {
		line := fmt.Sprintf("  %-22s %-6s access=%t", deref(e.FeatureID), deref(e.FeatureType), e.HasAccess != nil && *e.HasAccess)
		if limit, err := e.UsageLimit.Get(); err == nil {
			line += fmt.Sprintf(" usage %d of %d", e.CurrentUsage.GetOrEmpty(), limit)
		}
		q.say("%s", line)
		if q.meterID == "" && deref(e.FeatureType) == "METER" {
			q.meterID = deref(e.FeatureID)
		}
	}
	return nil
}

func (q *quickstart) reportUsage(ctx context.Context) error {
	if q.customerID == "" || q.meterID == "" {
		q.say("skipped: the customer has no metered feature")
		return errSkipped
	}
	res, err := q.c.ReportUsageWithResponse(ctx, api.ReportUsageJSONRequestBody{
		CustomerID: q.customerID,
		FeatureID:  q.meterID,
		Behaviour:  api.ReportUsageRequestBehaviourDELTA,
		Value:      1,
	})
	if err != nil {
		return err
	}
	u := res.JSON200
	if u == nil {
		return unexpected(res)
	}
	behaviour := ""
	if u.Behaviour != nil {
		behaviour = string(*u.Behaviour)
	}
	q.say("sent +1 %s for %s; recorded: %s %d %s for %s at %s", q.meterID, q.customerID,
		behaviour, deref(u.Value), deref(u.FeatureID), deref(u.CustomerID), deref(u.Timestamp))
	return nil
}

func (q *quickstart) checkout(ctx context.Context) error {
	plan := ""
	for p, err := range q.c.ListCatalogPlansIter(ctx, nil) {
		if err != nil {
			return err
		}
		plan = deref(p.Identifier)
		break
	}
	if plan == "" {
		q.say("skipped: the catalog has no plan")
		return errSkipped
	}
	body := api.CreateCheckoutSessionJSONRequestBody{
		PlanIdentifier: plan,
		ChargePeriod:   api.CreateCheckoutSessionRequestChargePeriodMONTHLY,
		SuccessURL:     "https://example.com/thanks",
	}
	if q.customerID != "" {
		body.CustomerID.Set(q.customerID)
	}
	res, err := q.c.CreateCheckoutSessionWithResponse(ctx, body)
	if err != nil {
		return err
	}
	s := res.JSON201
	if s == nil {
		return unexpected(res)
	}
	q.say("plan %s, monthly, for %s: session %s", plan, q.customerID, deref(s.CheckoutSessionID))
	q.say("pay at %s", deref(s.CheckoutURL))
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func uuidOrNone(u *openapi_types.UUID) string {
	if u == nil {
		return "(none)"
	}
	return u.String()
}
