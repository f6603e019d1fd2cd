package kelviqtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// store is the state of a stateful fake: customers, partner
// organizations, entitlements with their usage, and checkout sessions.
// Stored objects are JSON values (maps) that are never changed once
// stored: an update stores a changed copy, so a response may encode an
// object after the lock is released.
type store struct {
	seed *seedData // what Reset goes back to; nil: empty

	mu        sync.Mutex
	seq       int64 // numbers the objects the fake makes
	customers []map[string]any
	customer  map[string]int  // customerId → index in customers
	custUUIDs map[string]bool // the customers' ids (UUIDs), seeded ones included

	orgs        []map[string]any
	orgByID     map[string]int  // lower-case organizationIdentifier → index
	orgByExt    map[string]int  // partnerExternalId → index
	slugs       map[string]bool // organizationSlugs in use
	ownerEmails map[string]bool // of provisioned organizations

	features     map[string][]string // customerId → featureIds, in seed order
	entitlements map[entKey]map[string]any
	usage        map[entKey]int64

	sessions []map[string]any
	session  map[string]int // checkout session id → index
}

// entKey names an entitlement: a customer's feature.
type entKey struct{ customer, feature string }

// Kinds of object, in the ids the fake makes.
const (
	kindCustomer     = 1
	kindOrganization = 2
	kindUser         = 3
)

// seedTime is createdOn and modifiedOn of seeded customers that have none.
const seedTime = "2025-01-01T00:00:00.000000Z"

// customerTime is the format of a customer's createdOn and modifiedOn, as
// kelviq writes them.
const customerTime = "2006-01-02T15:04:05.000000Z"

func newStore(seed *seedData) *store {
	st := &store{seed: seed}
	st.reset()
	return st
}

// reset puts the store back to its seed. The caller holds no lock.
func (st *store) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq = 0
	st.customers, st.customer, st.custUUIDs = nil, map[string]int{}, map[string]bool{}
	st.orgs, st.orgByID, st.orgByExt, st.ownerEmails = nil, map[string]int{}, map[string]int{}, map[string]bool{}
	st.slugs = map[string]bool{}
	st.features, st.entitlements, st.usage = map[string][]string{}, map[entKey]map[string]any{}, map[entKey]int64{}
	st.sessions, st.session = nil, map[string]int{}
	if st.seed == nil {
		return
	}
	for _, c := range st.seed.customers {
		st.addCustomer(c)
	}
	for _, o := range st.seed.orgs {
		st.addOrg(o)
	}
	for _, e := range st.seed.entitlements {
		k := entKey{e.customerID, e.def["featureId"].(string)}
		st.features[k.customer] = append(st.features[k.customer], k.feature)
		st.entitlements[k] = e.def
		if u, ok := e.def["currentUsage"].(float64); ok {
			st.usage[k] = int64(u)
		}
	}
	// Ids the fake makes must not collide with seeded ones of the same
	// form: start after the seed's length.
	st.seq = int64(len(st.seed.customers) + len(st.seed.orgs))
}

func (st *store) addCustomer(c map[string]any) {
	st.customer[c["customerId"].(string)] = len(st.customers)
	st.customers = append(st.customers, c)
	if id, ok := c["id"].(string); ok {
		st.custUUIDs[strings.ToLower(id)] = true
	}
}

func (st *store) addOrg(o map[string]any) {
	i := len(st.orgs)
	st.orgs = append(st.orgs, o)
	if id, ok := o["organizationIdentifier"].(string); ok {
		st.orgByID[strings.ToLower(id)] = i
	}
	if ext, ok := o["partnerExternalId"].(string); ok {
		st.orgByExt[ext] = i
	}
	if slug, ok := o["organizationSlug"].(string); ok {
		st.slugs[slug] = true
	}
}

// next returns a new sequence number. The caller holds st.mu.
func (st *store) next() int64 {
	st.seq++
	return st.seq
}

// fresh returns a new sequence number whose UUID of the kind is not
// taken: a seed may hold ids of the form the fake makes, and two objects
// with one id would make the seeded one unreachable. The caller holds
// st.mu.
func (st *store) fresh(kind int) int64 {
	taken := func(id string) bool { return st.custUUIDs[id] }
	if kind == kindOrganization {
		taken = func(id string) bool { _, ok := st.orgByID[id]; return ok }
	}
	n := st.next()
	for taken(objectUUID(kind, n)) {
		n = st.next()
	}
	return n
}

// objectUUID is a deterministic UUID (version 4 layout) for the n-th object of
// a kind, so that runs of a test see the same ids.
func objectUUID(kind int, n int64) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n)
}

// fillCustomer returns c with the fields the server makes filled in where
// absent: id, details, createdOn, modifiedOn.
func fillCustomer(c map[string]any, id, now string) map[string]any {
	out := maps.Clone(c)
	defaults := map[string]any{"id": id, "details": map[string]any{}, "createdOn": now, "modifiedOn": now}
	for k, v := range defaults {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out
}

func withKey(m map[string]any, k string, v any) map[string]any {
	out := maps.Clone(m)
	out[k] = v
	return out
}

func withoutKey(m map[string]any, k string) map[string]any {
	out := maps.Clone(m)
	delete(out, k)
	return out
}

// get answers the object stored under key in list (through its index),
// or 404 naming what was not found. list is a pointer: read under the lock.
func (st *store) get(index map[string]int, list *[]map[string]any, key, what string) reply {
	st.mu.Lock()
	defer st.mu.Unlock()
	i, ok := index[key]
	if !ok {
		return notFound(what)
	}
	return reply{http.StatusOK, (*list)[i]}
}

// call is one validated request to a stateful operation.
type call struct {
	r      *http.Request
	params map[string]string // path parameters, unescaped
	body   map[string]any    // the JSON body, nil when none
	query  url.Values
	now    time.Time
}

// reply is a stateful operation's answer: status and a JSON body.
type reply struct {
	status int
	body   any
}

// notFound is kelviq's 404.
func notFound(what string) reply {
	return reply{http.StatusNotFound, map[string]any{"detail": what + " not found."}}
}

// fieldError is kelviq's 400 naming a field.
func fieldError(field, reason string) reply {
	return reply{http.StatusBadRequest, map[string]any{"error": "Invalid request: " + field + ": " + reason, field: []string{reason}}}
}

// statefulOps are the operations a stateful fake answers from its store;
// every other operation answers as a stateless fake does.
var statefulOps = map[string]func(*store, *call) reply{
	"createCustomer":                          (*store).createCustomer,
	"updateCustomer":                          (*store).updateCustomer,
	"listCustomers":                           (*store).listCustomers,
	"provisionPartnerOrganization":            (*store).provisionOrg,
	"listPartnerOrganizations":                (*store).listOrgs,
	"retrievePartnerOrganization":             (*store).retrieveOrg,
	"retrievePartnerOrganizationByExternalId": (*store).retrieveOrgByExternalID,
	"reportUsage":                             (*store).reportUsage,
	"getCustomerEntitlements":                 (*store).entitlementsOf,
	"createCheckoutSession":                   (*store).createSession,
	"retrieveCheckoutSession":                 (*store).retrieveSession,
	"listCheckoutSessions":                    (*store).listSessions,
	"listCheckoutSessionEvents":               (*store).listSessionEvents,
}

// defaultPageSize is kelviq's page size when page_size is not sent.
const defaultPageSize = 10

// page is one page of n items in kelviq's list shape {count, next,
// previous, results}, with next and previous linking to the same URL with
// another page, as Django REST framework writes them; slice returns the
// items from start to end. A page past the end is 404 "Invalid page." (as
// there), except the first page of nothing.
func page(c *call, n int, slice func(start, end int) []any) reply {
	num, size := 1, defaultPageSize
	if v := c.query.Get("page"); v != "" {
		num, _ = strconv.Atoi(v) // validated as an integer against the spec
	}
	if v := c.query.Get("page_size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	if size < 1 {
		size = defaultPageSize
	}
	pages := max(1, (n+size-1)/size)
	if num < 1 || num > pages {
		return reply{http.StatusNotFound, map[string]any{"detail": "Invalid page."}}
	}
	start := (num - 1) * size
	results := slice(start, min(start+size, n))
	if results == nil {
		results = []any{}
	}
	var next, prev any
	if num < pages {
		next = pageLink(c, num+1)
	}
	if num > 1 {
		prev = pageLink(c, num-1)
	}
	return reply{http.StatusOK, map[string]any{"count": n, "next": next, "previous": prev, "results": results}}
}

// pageOf pages through a list built in full.
func pageOf(c *call, items []any) reply {
	return page(c, len(items), func(start, end int) []any { return items[start:end] })
}

// pageLink is the request's URL with page set to n (left out for the first
// page, as Django REST framework does).
func pageLink(c *call, n int) string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	if n == 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(n))
	}
	u := url.URL{Scheme: scheme, Host: c.r.Host, Path: c.r.URL.Path, RawPath: c.r.URL.RawPath, RawQuery: q.Encode()}
	return u.String()
}

// serveState answers a stateful operation from the store.
func (h *Handler) serveState(w http.ResponseWriter, r *http.Request, f func(*store, *call) reply, params map[string]string, body []byte, rec *Request) {
	c := &call{r: r, params: params, query: r.URL.Query(), now: time.Now()}
	if len(body) > 0 {
		// Validated against the spec: a JSON object.
		if err := json.Unmarshal(body, &c.body); err != nil {
			rec.Problem = "body: " + err.Error()
			writeJSON(w, http.StatusBadRequest, nil, map[string]any{"detail": "Invalid request: body: not a JSON object."})
			return
		}
	}
	rep := f(h.state, c)
	if rep.status >= 400 {
		if m, ok := rep.body.(map[string]any); ok {
			rec.Problem, _ = cmp.Or(m["error"], m["detail"]).(string)
		}
	}
	writeJSON(w, rep.status, nil, rep.body)
}
