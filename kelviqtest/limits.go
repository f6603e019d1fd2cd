package kelviqtest

import (
	"errors"
	"fmt"
)

// Limits bound what a Handler keeps, so that a long-running fake (a test
// suite's shared server, cmd/kelviq-mock) holds a bounded amount of memory
// however much it is sent. When storing an object or recording a request
// would go past a limit, the oldest (by when it was stored) goes first, and
// Handler.Stats counts it in Dropped. The fake still answers the request
// that made room; a later request for a dropped object finds nothing (404,
// or an empty usage), as for one never stored.
//
// A zero field means its default (DefaultLimits); a negative one is an
// error. Give them with WithLimits, or cmd/kelviq-mock's -max-* flags.
type Limits struct {
	// Customers is how many customers the state keeps (created, seeded,
	// or made by a checkout session). Default 10,000.
	Customers int `json:"customers"`
	// UsagePairs is how many (customer, feature) usages reportUsage keeps
	// for features without a seeded entitlement. The usage of a seeded
	// entitlement is always kept: the seed bounds how many there are.
	// Default 100,000.
	UsagePairs int `json:"usagePairs"`
	// Organizations is how many partner organizations the state keeps.
	// Default 10,000.
	Organizations int `json:"organizations"`
	// CheckoutSessions is how many checkout sessions the state keeps.
	// Default 10,000.
	CheckoutSessions int `json:"checkoutSessions"`
	// StateBytes bounds the memory of the state's objects together, as
	// estimated from their decoded JSON (strings, maps, lists and indexes,
	// erring high). Past it, the oldest object of the kind holding the most
	// bytes goes first, so that one kind of large objects (customers with
	// large metadata) does not push out the small others. An object larger
	// than StateBytes on its own is answered and not kept. Default 32 MiB.
	StateBytes int64 `json:"stateBytes"`
	// Requests is how many requests Handler.Requests keeps. Default 10,000.
	Requests int `json:"requests"`
	// RequestBytes bounds the memory of the recorded requests (bodies,
	// headers, query, path). A request larger than RequestBytes on its own
	// is not kept (counted as dropped). Default 32 MiB.
	RequestBytes int64 `json:"requestBytes"`
}

// DefaultLimits returns the limits of a Handler without WithLimits: 10,000
// customers, 100,000 usage pairs, 10,000 organizations, 10,000 checkout
// sessions, 32 MiB of state, 10,000 requests and 32 MiB of them. With them
// the fake holds at most about 64 MiB of state and recordings, plus the
// 16 MiB budget of request bodies being read (WithMaxBodyBytes).
func DefaultLimits() Limits { return defaultLimits }

var defaultLimits = Limits{
	Customers:        10_000,
	UsagePairs:       100_000,
	Organizations:    10_000,
	CheckoutSessions: 10_000,
	StateBytes:       32 << 20,
	Requests:         10_000,
	RequestBytes:     32 << 20,
}

// withDefaults fills the zero fields of l from the defaults.
func (l Limits) withDefaults() Limits {
	d := defaultLimits
	if l.Customers == 0 {
		l.Customers = d.Customers
	}
	if l.UsagePairs == 0 {
		l.UsagePairs = d.UsagePairs
	}
	if l.Organizations == 0 {
		l.Organizations = d.Organizations
	}
	if l.CheckoutSessions == 0 {
		l.CheckoutSessions = d.CheckoutSessions
	}
	if l.StateBytes == 0 {
		l.StateBytes = d.StateBytes
	}
	if l.Requests == 0 {
		l.Requests = d.Requests
	}
	if l.RequestBytes == 0 {
		l.RequestBytes = d.RequestBytes
	}
	return l
}

// validate names the first negative field.
func (l Limits) validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Customers", int64(l.Customers)}, {"UsagePairs", int64(l.UsagePairs)},
		{"Organizations", int64(l.Organizations)}, {"CheckoutSessions", int64(l.CheckoutSessions)},
		{"StateBytes", l.StateBytes}, {"Requests", int64(l.Requests)}, {"RequestBytes", l.RequestBytes},
	} {
		if f.v < 0 {
			return fmt.Errorf("kelviqtest: WithLimits: %s is %d; a limit is positive (0 means the default)", f.name, f.v)
		}
	}
	return nil
}

// WithLimits sets the limits of what the fake keeps: state and recorded
// requests. Zero fields keep their defaults (DefaultLimits). A seed
// (WithSeed) larger than the limits is an error of NewHandler.
func WithLimits(l Limits) Option {
	return func(c *config) error {
		if err := l.validate(); err != nil {
			return err
		}
		c.limits = l
		return nil
	}
}

// Counts are numbers of objects of each kind the fake keeps. (The JSON
// names, in camelCase, are those of kelviq-mock's GET /__kelviqtest/stats.)
type Counts struct {
	Customers        int `json:"customers"`
	UsagePairs       int `json:"usagePairs"` // usages of features without a seeded entitlement
	Organizations    int `json:"organizations"`
	CheckoutSessions int `json:"checkoutSessions"`
	Requests         int `json:"requests"` // recorded requests
}

// Stats says what a Handler holds and what its Limits made it drop.
type Stats struct {
	// Stored is what the fake holds now.
	Stored Counts `json:"stored"`
	// Dropped is what it dropped to stay within its Limits: state objects
	// since it started or was last Reset, requests since it started or
	// ClearRequests was last called.
	Dropped Counts `json:"dropped"`
	// StateBytes and RequestBytes are the estimated memory of the state
	// and of the recorded requests, each under its limit.
	StateBytes   int64 `json:"stateBytes"`
	RequestBytes int64 `json:"requestBytes"`
	// Limits are the limits in force, defaults filled in.
	Limits Limits `json:"limits"`
}

// Stats returns what the fake holds and has dropped.
func (h *Handler) Stats() Stats {
	s := Stats{Limits: h.limits}
	if h.state != nil {
		h.state.stats(&s)
	}
	h.mu.Lock()
	s.Stored.Requests = h.requests.len()
	s.RequestBytes = h.requests.bytes
	s.Dropped.Requests = h.droppedRequests
	h.mu.Unlock()
	return s
}

// checkSeedFits refuses a seed the limits cannot hold: it would be cut
// before the first request, silently.
func checkSeedFits(st *store, l Limits) error {
	if st == nil || st.seed == nil {
		return nil
	}
	sd := st.seed
	var errs []error
	over := func(what string, n, limit int, field string) {
		if n > limit {
			errs = append(errs, fmt.Errorf("the seed has %d %s, over the limit of %d (Limits.%s)", n, what, limit, field))
		}
	}
	over("customers", len(sd.customers), l.Customers, "Customers")
	over("partner organizations", len(sd.orgs), l.Organizations, "Organizations")
	st.mu.Lock()
	dropped := st.dropped
	st.mu.Unlock()
	if dropped != (Counts{}) && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("the seed's objects take more memory than the limit of %d bytes allows (Limits.StateBytes)", l.StateBytes))
	}
	if len(errs) > 0 {
		return fmt.Errorf("kelviqtest: WithSeed: %w", errors.Join(errs...))
	}
	return nil
}
