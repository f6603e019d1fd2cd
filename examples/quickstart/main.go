// Quickstart walks through the main paths of kelviq-go and prints what
// each call returns: provisioning a partner organization and looking it up
// by its external id, creating a customer and listing it back with a page
// iterator, reading the customer's entitlements, reporting usage and
// reading the entitlement back, and creating a checkout session. Responses
// are read with the generated accessors (GetX), which are nil-safe.
//
//	go run ./examples/quickstart
//
// With no key in the environment it needs no account and no network: it
// starts kelviqtest, the spec-driven fake kelviq, in this process. The fake
// keeps state: it is seeded with a plan for the customer the quickstart
// creates (as if that customer had subscribed), so what the quickstart reads
// back is what it wrote. With KELVIQ_SANDBOX_SERVER_API_KEY
// set (and KELVIQ_PARTNER_KEY for the partner steps) it calls the kelviq
// sandbox instead, configured by kelviq.FromEnv (KELVIQ_BASE_URL and
// KELVIQ_EDGE_URL are honoured, so it can also call a running
// cmd/kelviq-mock). It never calls production: the sandbox is chosen
// explicitly, whatever KELVIQ_ENV says. Against the sandbox it creates
// real sandbox objects (an organization, a customer, usage, a checkout
// session).
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
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
	stamp := now().UTC().Format("20060102-150405")
	c, partner, closeFake, err := connect(out, customerIDFor(stamp))
	if err != nil {
		return err
	}
	defer closeFake()

	q := &quickstart{c: c, out: out, partner: partner, stamp: stamp}
	steps := []struct {
		title string
		do    func(context.Context) error
	}{
		{"Provision a partner organization", q.provision},
		{"Look it up by external id", q.lookup},
		{"Create a customer", q.createCustomer},
		{"List it back with the page iterator", q.listCustomers},
		{"Read the customer's entitlements", q.entitlements},
		{"Report usage and read the entitlement back", q.reportUsage},
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

// now is the clock the sandbox objects' ids are stamped with; tests fix it.
var now = time.Now

// customerIDFor is the id of the customer the quickstart creates.
func customerIDFor(stamp string) string { return "quickstart-" + stamp }

// fakeSeed is the kelviqtest seed the quickstart's fake starts from: the
// customer it is about to create has a plan with a metered feature and a
// flag, as a customer who subscribed would. A customer created in the
// sandbox has no plan until a checkout completes, so there the usage step
// is skipped.
func fakeSeed(customerID string) ([]byte, error) {
	return json.Marshal(map[string]any{"entitlements": []map[string]any{
		{"customerId": customerID, "featureId": "api-calls", "featureType": "METER", "hasAccess": true, "hardLimit": true, "usageLimit": 1000, "currentUsage": 0},
		{"customerId": customerID, "featureId": "advanced-analytics", "featureType": "FLAG", "hasAccess": true},
	}})
}

// connect makes the client: against an in-process fake when there is no
// sandbox key, else against the sandbox. The first line it prints says
// which. closeFake stops the fake (a no-op for the sandbox).
func connect(out io.Writer, customerID string) (c *kelviq.Client, partner bool, closeFake func(), err error) {
	if os.Getenv("KELVIQ_SANDBOX_SERVER_API_KEY") == "" {
		seed, err := fakeSeed(customerID)
		if err != nil {
			return nil, false, nil, err
		}
		h, err := kelviqtest.NewHandler(kelviqtest.WithSeed(bytes.NewReader(seed)))
		if err != nil {
			return nil, false, nil, err
		}
		srv := httptest.NewServer(h)
		fmt.Fprintf(out, "No KELVIQ_SANDBOX_SERVER_API_KEY in the environment: using kelviqtest, a fake kelviq that keeps state, started in this process at %s and seeded with a plan for the customer created below.\n", srv.URL)
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
	q.say("organization %s (slug %s, external id %s)", org.GetOrganizationIdentifier(), org.GetOrganizationSlug(), org.GetPartnerExternalID())
	if org.GetServerKey() != "" {
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
	q.say("external id %s is organization %s (slug %s)", q.externalID, res.JSON200.GetOrganizationIdentifier(), res.JSON200.GetOrganizationSlug())
	return nil
}

func (q *quickstart) createCustomer(ctx context.Context) error {
	body := api.CreateCustomerJSONRequestBody{CustomerID: customerIDFor(q.stamp)}
	body.Name.Set("Quickstart " + q.stamp)
	body.Email.Set("customer+" + q.stamp + "@example.com")
	res, err := q.c.CreateCustomerWithResponse(ctx, body)
	if err != nil {
		return err
	}
	c := res.JSON201
	q.customerID = cmp.Or(c.GetCustomerID(), body.CustomerID)
	q.say("sent   %-24s %-26s %s", body.CustomerID, body.Name.GetOrEmpty(), body.Email.GetOrEmpty())
	q.say("stored %-24s %-26s %s", c.GetCustomerID(), c.GetName(), c.GetEmail())
	return nil
}

// maxShown bounds the customers printed; the iterator stops fetching
// pages when the loop breaks.
const maxShown = 5

func (q *quickstart) listCustomers(ctx context.Context) error {
	search, size := q.customerID, 20
	n := 0
	for cust, err := range q.c.ListCustomersIter(ctx, &api.ListCustomersParams{Search: &search, PageSize: &size}) {
		if err != nil {
			return err
		}
		if n == maxShown {
			q.say("… (stopped after %d; the iterator fetches further pages only when the loop asks)", maxShown)
			break
		}
		n++
		q.say("listed %-24s %-26s %s", cust.GetCustomerID(), cust.GetName(), cust.GetEmail())
	}
	if n == 0 {
		q.say("no customer matches %q", search)
	}
	return nil
}

// entitlement reads the customer's entitlements; with feature set, only
// that feature's.
func (q *quickstart) entitlement(ctx context.Context, feature string) (*api.CheckEntitlementsResponse, error) {
	params := api.GetCustomerEntitlementsParams{CustomerID: q.customerID}
	if feature != "" {
		params.FeatureID = &feature
	}
	res, err := q.c.GetCustomerEntitlementsWithResponse(ctx, &params)
	if err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

func (q *quickstart) entitlements(ctx context.Context) error {
	if q.customerID == "" {
		q.say("skipped: no customer")
		return errSkipped
	}
	ents, err := q.entitlement(ctx, "")
	if err != nil {
		return err
	}
	q.say("customer %s:", ents.GetCustomerID())
	if len(ents.GetEntitlements()) == 0 {
		q.say("  no entitlements")
	}
	for _, e := range ents.GetEntitlements() {
		q.say("  %-22s %-6s access=%t%s", e.GetFeatureID(), e.GetFeatureType(), e.GetHasAccess(), usage(e))
		if q.meterID == "" && e.GetFeatureType() == "METER" {
			q.meterID = e.GetFeatureID()
		}
	}
	return nil
}

// usage describes a metered entitlement's usage, "" without a limit.
func usage(e api.EntitlementDetail) string {
	limit, err := e.UsageLimit.Get()
	if err != nil {
		return "" // absent or null: no limit
	}
	return fmt.Sprintf(" usage %d of %d", e.GetCurrentUsage(), limit)
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
	q.say("sent +1 %s for %s; recorded: %s %d %s for %s at %s", q.meterID, q.customerID,
		u.GetBehaviour(), u.GetValue(), u.GetFeatureID(), u.GetCustomerID(), u.GetTimestamp())

	ents, err := q.entitlement(ctx, q.meterID)
	if err != nil {
		return err
	}
	for _, e := range ents.GetEntitlements() {
		q.say("read back: %s%s", e.GetFeatureID(), usage(e))
	}
	return nil
}

func (q *quickstart) checkout(ctx context.Context) error {
	plan := ""
	for p, err := range q.c.ListCatalogPlansIter(ctx, nil) {
		if err != nil {
			return err
		}
		plan = p.GetIdentifier()
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
	q.say("plan %s, monthly, for %s: session %s", plan, q.customerID, res.JSON201.GetCheckoutSessionID())
	q.say("pay at %s", res.JSON201.GetCheckoutURL())
	return nil
}
