package kelviqtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// createSession stores an open checkout session. Its customer is the
// stored one with the body's customerId; a customerId not stored, or none
// (kelviq then makes one up), creates the customer, as kelviq's checkout
// does.
func (st *store) createSession(c *call) reply {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := st.next()
	id := fmt.Sprintf("cs_kelviqtest%08d", n)
	now := c.now.UTC()

	custID, _ := c.body["customerId"].(string)
	if custID == "" {
		custID = fmt.Sprintf("kelviqtest-customer-%d", n)
	}
	var cust map[string]any
	if n, ok := st.customer[custID]; ok {
		cust, _ = st.customers.get(n)
	}
	if cust == nil {
		stamp := now.Format(customerTime)
		cust = fillCustomer(map[string]any{
			"customerId": custID, "name": nil, "email": nil, "metadata": nil, "billingAddress": nil,
		}, objectUUID(kindCustomer, st.fresh(kindCustomer)), stamp)
		if !st.tooLarge(customerSize(cust), func(d *Counts) { d.Customers++ }) {
			st.addCustomer(cust)
		}
	}

	selected := map[string]any{"planIdentifier": c.body["planIdentifier"], "chargePeriod": c.body["chargePeriod"]}
	if f, ok := c.body["features"]; ok && f != nil {
		selected["features"] = f
	}
	metadata, _ := c.body["metadata"].(map[string]any)
	if metadata == nil {
		metadata = map[string]any{}
	}
	currency := "usd"
	if code, ok := c.body["currencyCode"].(string); ok && code != "" {
		currency = strings.ToLower(code)
	}
	session := map[string]any{
		"id":               id,
		"customer":         map[string]any{"customerId": custID, "name": cust["name"], "email": cust["email"]},
		"billingAddress":   cust["billingAddress"],
		"discountCode":     c.body["discountCode"], // nil when absent
		"taxId":            nil,
		"currency":         currency,
		"currencySymbol":   "$",
		"status":           "open",
		"createdOn":        now.Format(time.RFC3339),
		"selectedData":     selected,
		"offeringData":     map[string]any{},
		"data":             map[string]any{},
		"customFieldsData": map[string]any{},
		"metadata":         metadata,
		"customization":    map[string]any{},
		"trialPeriod":      float64(0),
	}
	if !st.tooLarge(sessionSize(session), func(d *Counts) { d.CheckoutSessions++ }) {
		st.session[id] = st.sessions.push(session, sessionSize(session))
		st.trim()
	}
	return reply{http.StatusCreated, map[string]any{
		"checkoutUrl":       checkoutURL(c.r, id),
		"checkoutSessionId": id,
	}}
}

// checkoutURL is where the fake says the customer pays: a page of the fake
// itself, never kelviq's.
func checkoutURL(r *http.Request, id string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + filesPath + "/checkout/" + id + "/"
}

func (st *store) retrieveSession(c *call) reply {
	return get(st, st.session, &st.sessions, c.params["session_id"], "Checkout session", func(s map[string]any) map[string]any { return s })
}

// listSessions pages through the sessions, oldest first, filtered by
// status, search (id, customerId, name, e-mail) and the creation date.
func (st *store) listSessions(c *call) reply {
	status := c.query.Get("status")
	search := strings.ToLower(c.query.Get("search"))
	from, to := c.query.Get("start_date"), c.query.Get("end_date")
	st.mu.Lock()
	items := make([]any, 0, st.sessions.len())
	for i := range st.sessions.len() {
		s := st.sessions.at(i)
		day := s["createdOn"].(string)[:len("2006-01-02")]
		cust, _ := s["customer"].(map[string]any)
		switch {
		case status != "" && s["status"] != status,
			from != "" && day < from,
			to != "" && day > to,
			search != "" && !matches(s, search, "id") && !matches(cust, search, "customerId", "name", "email"):
			continue
		}
		items = append(items, s)
	}
	st.mu.Unlock()
	return pageOf(c, items)
}

// listSessionEvents answers the one event of a stored session: its
// creation.
func (st *store) listSessionEvents(c *call) reply {
	st.mu.Lock()
	n, ok := st.session[c.params["session_id"]]
	var s map[string]any
	if ok {
		s, ok = st.sessions.get(n)
	}
	st.mu.Unlock()
	if !ok {
		return notFound("Checkout session")
	}
	event := map[string]any{
		"id":        float64(n + 1),
		"title":     "Checkout session created",
		"code":      "checkout_session.created",
		"status":    "success",
		"timestamp": s["createdOn"],
		"metadata":  map[string]any{"sessionId": s["id"]},
	}
	return pageOf(c, []any{event})
}
