package kelviqtest

import (
	"net/http"
	"strings"
)

// createCustomer stores a new customer; a customerId already stored is
// refused with 400 naming it.
func (st *store) createCustomer(c *call) reply {
	id, _ := c.body["customerId"].(string)
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.customer[id]; dup {
		return fieldError("customerId", "customer with this customerId already exists.")
	}
	now := c.now.UTC().Format(customerTime)
	cust := map[string]any{"customerId": id}
	for _, k := range []string{"name", "email", "metadata", "billingAddress"} {
		if v, ok := c.body[k]; ok {
			cust[k] = v
		} else {
			cust[k] = nil
		}
	}
	cust = fillCustomer(cust, objectUUID(kindCustomer, st.fresh(kindCustomer)), now)
	if !st.tooLarge(customerSize(cust), func(d *Counts) { d.Customers++ }) {
		st.addCustomer(cust)
		st.trim()
	}
	return reply{http.StatusCreated, cust}
}

// updateCustomer changes the fields the body carries (null clears one);
// an unknown customerId is 404.
func (st *store) updateCustomer(c *call) reply {
	id := c.params["customerId"]
	st.mu.Lock()
	defer st.mu.Unlock()
	n, ok := st.customer[id]
	old, held := st.customers.get(n)
	if !ok || !held {
		return notFound("Customer")
	}
	cust := withKey(old, "modifiedOn", c.now.UTC().Format(customerTime))
	for _, k := range []string{"name", "email", "metadata", "billingAddress"} {
		if v, ok := c.body[k]; ok {
			cust[k] = v
		}
	}
	if st.tooLarge(customerSize(cust), func(d *Counts) { d.Customers++ }) {
		// Too large to keep even alone: it goes, not the others (trim
		// would drop every older customer first).
		st.removeCustomer(n, old)
		return reply{http.StatusOK, cust}
	}
	st.customers.replace(n, cust, customerSize(cust))
	st.trim() // a larger metadata may take it over StateBytes
	return reply{http.StatusOK, cust}
}

// listCustomers pages through the stored customers, oldest first;
// search matches customerId, name or email, ignoring case. Without search
// only the page is copied, so a list stays cheap however many are stored.
func (st *store) listCustomers(c *call) reply {
	search := strings.ToLower(c.query.Get("search"))
	st.mu.Lock()
	defer st.mu.Unlock()
	if search == "" {
		return page(c, st.customers.len(), func(start, end int) []any {
			out := make([]any, end-start)
			for i := range out {
				out[i] = st.customers.at(start + i)
			}
			return out
		})
	}
	var items []any
	for i := range st.customers.len() {
		if cust := st.customers.at(i); matches(cust, search, "customerId", "name", "email") {
			items = append(items, cust)
		}
	}
	return pageOf(c, items)
}

// matches reports whether one of the string fields contains s (lower case).
func matches(m map[string]any, s string, fields ...string) bool {
	for _, f := range fields {
		if v, ok := m[f].(string); ok && strings.Contains(strings.ToLower(v), s) {
			return true
		}
	}
	return false
}

// removeCustomer drops the stored customer numbered n, c, out of turn, and
// its indexes. The caller holds st.mu and has counted it dropped.
func (st *store) removeCustomer(n int64, c map[string]any) {
	if id, _ := c["customerId"].(string); st.customer[id] == n {
		delete(st.customer, id)
	}
	if uuid, ok := c["id"].(string); ok {
		delete(st.custUUIDs, strings.ToLower(uuid))
	}
	st.customers.remove(n, func(v map[string]any, from, to int64) {
		if id, _ := v["customerId"].(string); st.customer[id] == from {
			st.customer[id] = to
		}
	})
}
