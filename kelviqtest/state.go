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
	seed   *seedData // what Reset goes back to; nil: empty
	limits Limits    // defaults filled in

	mu        sync.Mutex
	seq       int64 // numbers the objects the fake makes
	customers fifo[map[string]any]
	customer  map[string]int64 // customerId → number in customers
	custUUIDs map[string]bool  // the customers' ids (UUIDs), lower case

	orgs        fifo[orgEntry]
	orgByID     map[string]int64 // lower-case organizationIdentifier → number in orgs
	orgByExt    map[string]int64 // partnerExternalId → number
	slugs       map[string]bool  // organizationSlugs in use
	ownerEmails map[string]bool  // of provisioned organizations, lower case

	features     map[string][]string // customerId → featureIds, in seed order
	entitlements map[entKey]map[string]any
	usage        map[entKey]int64
	usageOrder   fifo[entKey] // the pairs without a seeded entitlement, oldest first

	sessions fifo[map[string]any]
	session  map[string]int64 // checkout session id → number in sessions

	dropped Counts // since the last reset
}

// orgEntry is a stored organization and the owner e-mail it was
// provisioned with ("" when seeded), freed with it.
type orgEntry struct {
	org   map[string]any
	email string
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

func newStore(seed *seedData, limits Limits) *store {
	st := &store{seed: seed, limits: limits}
	st.reset()
	return st
}

// reset puts the store back to its seed. The caller holds no lock.
func (st *store) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq = 0
	st.customers, st.customer, st.custUUIDs = fifo[map[string]any]{}, map[string]int64{}, map[string]bool{}
	st.orgs, st.orgByID, st.orgByExt, st.ownerEmails = fifo[orgEntry]{}, map[string]int64{}, map[string]int64{}, map[string]bool{}
	st.slugs = map[string]bool{}
	st.features, st.entitlements, st.usage = map[string][]string{}, map[entKey]map[string]any{}, map[entKey]int64{}
	st.usageOrder = fifo[entKey]{}
	st.sessions, st.session = fifo[map[string]any]{}, map[string]int64{}
	st.dropped = Counts{}
	if st.seed == nil {
		return
	}
	for _, c := range st.seed.customers {
		st.addCustomer(c)
	}
	for _, o := range st.seed.orgs {
		st.addOrg(o, "")
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
	st.trim()
}

// Estimated sizes of what the indexes and lists hold for an object.
func customerSize(c map[string]any) int64 {
	id, _ := c["customerId"].(string)
	uuid, _ := c["id"].(string)
	return sizeOf(c) + 2*sizeIndex + int64(len(id)+len(uuid))
}

func orgSize(o orgEntry) int64 {
	n := sizeOf(o.org) + 4*sizeIndex + int64(len(o.email))
	for _, k := range []string{"organizationIdentifier", "partnerExternalId", "organizationSlug"} {
		v, _ := o.org[k].(string)
		n += int64(len(v))
	}
	return n
}

func sessionSize(s map[string]any) int64 {
	id, _ := s["id"].(string)
	return sizeOf(s) + sizeIndex + int64(len(id))
}

func usagePairSize(k entKey) int64 {
	// The map entry (key, int64), the queue's copy of the key (sharing the
	// bytes) and the strings.
	return sizeIndex + 2*sizeString + 8 + 2*sizeString + int64(len(k.customer)+len(k.feature)) + 2*sizeAlloc
}

func (st *store) addCustomer(c map[string]any) {
	st.customer[c["customerId"].(string)] = st.customers.push(c, customerSize(c))
	if id, ok := c["id"].(string); ok {
		st.custUUIDs[strings.ToLower(id)] = true
	}
}

func (st *store) addOrg(o map[string]any, email string) {
	n := st.orgs.push(orgEntry{o, email}, orgSize(orgEntry{o, email}))
	if id, ok := o["organizationIdentifier"].(string); ok {
		st.orgByID[strings.ToLower(id)] = n
	}
	if ext, ok := o["partnerExternalId"].(string); ok {
		st.orgByExt[ext] = n
	}
	if slug, ok := o["organizationSlug"].(string); ok {
		st.slugs[slug] = true
	}
	if email != "" {
		st.ownerEmails[email] = true
	}
}

// dropCustomer drops the oldest customer and its indexes.
func (st *store) dropCustomer() {
	c, n := st.customers.pop()
	if id, _ := c["customerId"].(string); st.customer[id] == n {
		delete(st.customer, id)
	}
	if uuid, ok := c["id"].(string); ok {
		delete(st.custUUIDs, strings.ToLower(uuid))
	}
	st.dropped.Customers++
}

// dropOrg drops the oldest organization and what it holds: its ids,
// slug and owner e-mail are free again.
func (st *store) dropOrg() {
	o, n := st.orgs.pop()
	if id, ok := o.org["organizationIdentifier"].(string); ok && st.orgByID[strings.ToLower(id)] == n {
		delete(st.orgByID, strings.ToLower(id))
	}
	if ext, ok := o.org["partnerExternalId"].(string); ok && st.orgByExt[ext] == n {
		delete(st.orgByExt, ext)
	}
	if slug, ok := o.org["organizationSlug"].(string); ok {
		delete(st.slugs, slug)
	}
	if o.email != "" {
		delete(st.ownerEmails, o.email)
	}
	st.dropped.Organizations++
}

func (st *store) dropSession() {
	s, n := st.sessions.pop()
	if id, _ := s["id"].(string); st.session[id] == n {
		delete(st.session, id)
	}
	st.dropped.CheckoutSessions++
}

func (st *store) dropUsagePair() {
	k, _ := st.usageOrder.pop()
	delete(st.usage, k)
	st.dropped.UsagePairs++
}

// totalBytes is the estimated memory of the objects the limits bound.
// The caller holds st.mu.
func (st *store) totalBytes() int64 {
	return st.customers.bytes + st.orgs.bytes + st.sessions.bytes + st.usageOrder.bytes
}

// tooLarge reports whether an object of size would not fit in
// Limits.StateBytes even alone, and counts it in Dropped (add). Such an
// object is answered and not stored: stored, trim would first drop every
// older object of its kind, then it. The caller holds st.mu.
func (st *store) tooLarge(size int64, add func(*Counts)) bool {
	if size <= st.limits.StateBytes {
		return false
	}
	add(&st.dropped)
	return true
}

// trim drops the oldest objects until the store is within its limits:
// first each kind within its count, then, while the bytes are over, the
// oldest of the kind holding the most bytes. The caller holds st.mu.
func (st *store) trim() {
	l := st.limits
	for st.customers.len() > l.Customers {
		st.dropCustomer()
	}
	for st.orgs.len() > l.Organizations {
		st.dropOrg()
	}
	for st.sessions.len() > l.CheckoutSessions {
		st.dropSession()
	}
	for st.usageOrder.len() > l.UsagePairs {
		st.dropUsagePair()
	}
	for st.totalBytes() > l.StateBytes {
		kinds := []struct {
			bytes int64
			drop  func()
		}{
			{st.customers.bytes, st.dropCustomer},
			{st.orgs.bytes, st.dropOrg},
			{st.sessions.bytes, st.dropSession},
			{st.usageOrder.bytes, st.dropUsagePair},
		}
		most := 0
		for i, k := range kinds {
			if k.bytes > kinds[most].bytes {
				most = i
			}
		}
		kinds[most].drop()
	}
}

// stats fills in the state's part of s.
func (st *store) stats(s *Stats) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s.Stored.Customers = st.customers.len()
	s.Stored.Organizations = st.orgs.len()
	s.Stored.CheckoutSessions = st.sessions.len()
	s.Stored.UsagePairs = st.usageOrder.len()
	s.StateBytes = st.totalBytes()
	d := st.dropped
	d.Requests = 0
	s.Dropped = d
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
// or 404 naming what was not found.
func get[T any](st *store, index map[string]int64, list *fifo[T], key, what string, obj func(T) map[string]any) reply {
	st.mu.Lock()
	defer st.mu.Unlock()
	n, ok := index[key]
	if !ok {
		return notFound(what)
	}
	v, ok := list.get(n)
	if !ok {
		return notFound(what)
	}
	return reply{http.StatusOK, obj(v)}
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
