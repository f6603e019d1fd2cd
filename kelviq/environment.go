package kelviq

import (
	"fmt"
	"strings"
)

// Environment selects kelviq's production or sandbox hosts. Keys are scoped
// to one environment: a sandbox key works only against the sandbox.
type Environment string

const (
	// Production is the live environment (api.kelviq.com and
	// edge.api.kelviq.com). It is the default.
	Production Environment = "production"
	// Sandbox is the test environment (sandboxapi.kelviq.com and
	// edge.sandboxapi.kelviq.com): test payments, no real money.
	Sandbox Environment = "sandbox"
)

// String returns "production" or "sandbox".
func (e Environment) String() string { return string(e) }

// ParseEnvironment reads "production" or "sandbox" (any case, surrounding
// spaces ignored), the values of KELVIQ_ENV.
func ParseEnvironment(s string) (Environment, error) {
	switch Environment(strings.ToLower(strings.TrimSpace(s))) {
	case Production:
		return Production, nil
	case Sandbox:
		return Sandbox, nil
	}
	return "", fmt.Errorf("unknown environment %q: want %q or %q", s, Production, Sandbox)
}

func (e Environment) valid() bool { return e == Production || e == Sandbox }
