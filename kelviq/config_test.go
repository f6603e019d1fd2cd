package kelviq_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/kelviq"
)

// Every bad configuration fails NewClient with an error that wraps
// ErrInvalidConfig, names the option, and does not echo the key.
func TestConstructionErrors(t *testing.T) {
	const secretish = "sk_live_SECRET1234"
	cases := []struct {
		name string
		opts []kelviq.Option
		want string // the option or variable named in the error
	}{
		{"no credential at all", nil, "WithServerKey, WithPartnerKey or FromEnv"},
		{"only non-credential options", []kelviq.Option{kelviq.WithEnvironment(kelviq.Sandbox)}, "no key given"},
		{"empty server key", []kelviq.Option{kelviq.WithServerKey("")}, "WithServerKey: the key is empty"},
		{"empty partner key", []kelviq.Option{kelviq.WithPartnerKey("")}, "WithPartnerKey: the key is empty"},
		{"server key with a trailing newline", []kelviq.Option{kelviq.WithServerKey(secretish + "\n")}, "WithServerKey: the key contains whitespace"},
		{"server key with a space", []kelviq.Option{kelviq.WithServerKey("sk_live SECRET1234")}, "WithServerKey: the key contains whitespace"},
		{"server key with a control character", []kelviq.Option{kelviq.WithServerKey(secretish + "\x00")}, "WithServerKey: the key contains a control character"},
		{"partner key with whitespace", []kelviq.Option{kelviq.WithPartnerKey("kvqp_SECRET1234 ")}, "WithPartnerKey: the key contains whitespace"},
		{"partner key with a control character", []kelviq.Option{kelviq.WithPartnerKey("kvqp_SECRET1234\x7f")}, "WithPartnerKey: the key contains a control character"},
		{"partner key without kvqp_", []kelviq.Option{kelviq.WithPartnerKey(secretish)}, "WithPartnerKey: a partner key starts with \"kvqp_\""},
		{"partner key passed as the server key", []kelviq.Option{kelviq.WithServerKey("kvqp_SECRET1234")}, "WithServerKey: the key is a partner key"},
		{"http base URL on a public host", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("http://api.kelviq.com/api/v1")}, "WithBaseURL: http://api.kelviq.com is not https"},
		{"http base URL on a private address", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("http://10.0.0.5:8080")}, "WithBaseURL: http://10.0.0.5:8080 is not https"},
		{"base URL that is not a URL", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("api.kelviq.com")}, "WithBaseURL: not an absolute http(s) URL"},
		{"base URL with another scheme", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("ftp://api.kelviq.com")}, "WithBaseURL: not an absolute http(s) URL"},
		{"base URL with user info", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("https://user:SECRET1234@proxy.example")}, "WithBaseURL: the URL carries user info"},
		{"base URL with a query", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("https://proxy.example/?key=SECRET1234")}, "WithBaseURL: the URL has a query"},
		{"base URL with a dot segment", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("https://proxy.example/a/../b")}, "WithBaseURL: the URL's path has a \".\" or \"..\" segment"},
		{"base URL with a dot segment at the end", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("https://proxy.example/a/.")}, "WithBaseURL: the URL's path has a \".\" or \"..\" segment"},
		{"edge URL with an escaped dot segment", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithEdgeURL("https://edge.example/%2e%2e/v1")}, "WithEdgeURL: the URL's path has a \".\" or \"..\" segment"},
		{"base URL with an escaped slash", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithBaseURL("https://proxy.example/a%2Fb")}, "WithBaseURL: the URL's path has an escaped '/'"},
		{"http edge URL on a public host", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithEdgeURL("http://edge.example")}, "WithEdgeURL: http://edge.example is not https"},
		{"unknown environment", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithEnvironment("staging")}, "WithEnvironment: unknown environment \"staging\""},
		{"nil http client", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithHTTPClient(nil)}, "WithHTTPClient: the *http.Client is nil"},
		{"user agent with a newline", []kelviq.Option{kelviq.WithServerKey(secretish), kelviq.WithUserAgent("x\r\nX-Evil: 1")}, "WithUserAgent: the user agent contains a control character"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := kelviq.NewClient(tc.opts...)
			if err == nil {
				t.Fatalf("NewClient succeeded (%v), want an error", c != nil)
			}
			if c != nil {
				t.Error("NewClient returned a client with its error")
			}
			if !errors.Is(err, kelviq.ErrInvalidConfig) {
				t.Errorf("error %q does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET1234") {
				t.Errorf("error echoes the key: %q", err)
			}
		})
	}
}

func TestValidConfigurations(t *testing.T) {
	cases := map[string][]kelviq.Option{
		"server key":                   {kelviq.WithServerKey(testServerKey)},
		"partner key":                  {kelviq.WithPartnerKey(testPartnerKey)},
		"both, sandbox":                {kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey), kelviq.WithEnvironment(kelviq.Sandbox)},
		"https base URL":               {kelviq.WithServerKey(testServerKey), kelviq.WithBaseURL("https://proxy.example/kelviq")},
		"http on 127.0.0.1":            {kelviq.WithServerKey(testServerKey), kelviq.WithBaseURL("http://127.0.0.1:12111")},
		"http on localhost":            {kelviq.WithServerKey(testServerKey), kelviq.WithBaseURL("http://localhost:12111/")},
		"http on [::1]":                {kelviq.WithServerKey(testServerKey), kelviq.WithBaseURL("http://[::1]:12111")},
		"caller's client":              {kelviq.WithServerKey(testServerKey), kelviq.WithHTTPClient(&http.Client{})},
		"a nil option is ignored":      {nil, kelviq.WithServerKey(testServerKey)},
		"a later option replaces":      {kelviq.WithServerKey("kvqp_wrong"), kelviq.WithServerKey(testServerKey)},
		"environment parsed from text": {kelviq.WithServerKey(testServerKey), kelviq.WithEnvironment(mustParse(t, " Sandbox "))},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := kelviq.NewClient(opts...)
			if err != nil || c == nil {
				t.Fatalf("NewClient: %v", err)
			}
		})
	}
	c, _ := kelviq.NewClient(kelviq.WithServerKey(testServerKey))
	if c.Environment() != kelviq.Production {
		t.Errorf("default environment %s, want production (upstream's first server is the sandbox)", c.Environment())
	}
}

func mustParse(t *testing.T, s string) kelviq.Environment {
	env, err := kelviq.ParseEnvironment(s)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// FromEnv reads kelviq's CLI variables only when asked, explicit options win,
// and a key is only used in its own environment.
func TestFromEnv(t *testing.T) {
	for _, v := range []string{"KELVIQ_ENV", "KELVIQ_SERVER_API_KEY", "KELVIQ_SANDBOX_SERVER_API_KEY", "KELVIQ_PARTNER_KEY", "KELVIQ_BASE_URL", "KELVIQ_EDGE_URL"} {
		t.Setenv(v, "")
	}
	t.Setenv("KELVIQ_SANDBOX_SERVER_API_KEY", "sk_sandbox_abc")

	// Not asked: nothing is read.
	if _, err := kelviq.NewClient(); !errors.Is(err, kelviq.ErrInvalidConfig) {
		t.Fatalf("without FromEnv the environment was read: %v", err)
	}

	rec := &recorder{}
	hc := kelviq.WithHTTPClient(&http.Client{Transport: rec})

	// Only the sandbox key: the sandbox, with that key.
	c, err := kelviq.NewClient(kelviq.FromEnv(), hc)
	if err != nil {
		t.Fatal(err)
	}
	if c.Environment() != kelviq.Sandbox {
		t.Errorf("environment %s, want sandbox", c.Environment())
	}
	_, _ = c.ListCustomersWithResponse(t.Context(), nil)
	got := rec.take()[0]
	if got.Header.Get("Authorization") != "Bearer sk_sandbox_abc" || !strings.HasPrefix(got.URL, "https://sandboxapi.kelviq.com/") {
		t.Errorf("sandbox from env: %s with the sandbox key %v", got.URL, got.Header.Get("Authorization") == "Bearer sk_sandbox_abc")
	}

	// Both keys, KELVIQ_ENV=production: the production key only.
	t.Setenv("KELVIQ_SERVER_API_KEY", "sk_live_abc")
	t.Setenv("KELVIQ_ENV", "production")
	t.Setenv("KELVIQ_PARTNER_KEY", "kvqp_abc")
	t.Setenv("KELVIQ_BASE_URL", "http://127.0.0.1:1")
	t.Setenv("KELVIQ_EDGE_URL", "http://127.0.0.1:2")
	c, err = kelviq.NewClient(kelviq.FromEnv(), hc)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.ListCustomersWithResponse(t.Context(), nil)
	_, _ = c.GetCustomerEntitlementsWithResponse(t.Context(), nil)
	_, _ = c.ListPartnerOrganizationsWithResponse(t.Context(), nil)
	reqs := rec.take()
	if len(reqs) != 3 || reqs[0].Header.Get("Authorization") != "Bearer sk_live_abc" ||
		!strings.HasPrefix(reqs[0].URL, "http://127.0.0.1:1/customers/") ||
		!strings.HasPrefix(reqs[1].URL, "http://127.0.0.1:2/entitlements/") ||
		reqs[2].Header.Get("X-Kelviq-Partner-Key") != "kvqp_abc" {
		t.Errorf("production from env: %+v", reqs)
	}

	// Explicit options win over variables, wherever FromEnv stands.
	c, err = kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithEnvironment(kelviq.Sandbox), kelviq.FromEnv(), hc)
	if err != nil {
		t.Fatal(err)
	}
	if c.Environment() != kelviq.Sandbox {
		t.Errorf("WithEnvironment lost to KELVIQ_ENV")
	}
	_, _ = c.ListCustomersWithResponse(t.Context(), nil)
	if got := rec.take()[0]; got.Header.Get("Authorization") != "Bearer "+testServerKey {
		t.Error("WithServerKey lost to a variable")
	}

	// Bad variables are named in the error.
	t.Setenv("KELVIQ_ENV", "prod")
	if _, err := kelviq.NewClient(kelviq.FromEnv()); err == nil || !strings.Contains(err.Error(), "KELVIQ_ENV") {
		t.Errorf("bad KELVIQ_ENV: %v", err)
	}
	t.Setenv("KELVIQ_ENV", "")
	t.Setenv("KELVIQ_PARTNER_KEY", "pk_SECRET1234")
	if _, err := kelviq.NewClient(kelviq.FromEnv()); err == nil || !strings.Contains(err.Error(), "KELVIQ_PARTNER_KEY") || strings.Contains(err.Error(), "SECRET1234") {
		t.Errorf("bad KELVIQ_PARTNER_KEY: %v", err)
	}
}

// Plain http only where a key cannot cross a network: IP literals of the
// loopback networks and the exact name localhost. Go resolves
// *.localhost through DNS, so http://evil.localhost is refused.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	for host, ok := range map[string]bool{
		"127.0.0.1":              true,
		"127.8.9.10":             true,
		"[::1]":                  true,
		"[::ffff:127.0.0.1]":     true,
		"localhost":              true,
		"LocalHost":              true,
		"evil.localhost":         false,
		"a.b.localhost":          false,
		"localhost.":             false,
		"localhost.evil.example": false,
		"128.0.0.1":              false,
		"[::2]":                  false,
		"[::ffff:10.0.0.1]":      false,
		"0.0.0.0":                false,
		"127.1":                  false,
		"example.com":            false,
		// Forms some resolvers (inet_aton) read as 127.0.0.1, but Go's
		// does not: refused, as a name that may go to DNS.
		"0x7f.1":             false,
		"0x7f000001":         false,
		"2130706433":         false,
		"0177.0.0.1":         false,
		"127.0.0.1.":         false,
		"LOCALHOST":          true,
		"[::ffff:7f00:1]":    true,
		"[0:0:0:0:0:0:0:1]":  true,
		"[::1%25lo]":         false,
		"127.0.0.1.nip.io":   false,
		"[::ffff:128.0.0.1]": false,
	} {
		for _, opt := range []func(string) kelviq.Option{kelviq.WithBaseURL, kelviq.WithEdgeURL} {
			_, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), opt("http://"+host+":8080/v1"))
			if ok && err != nil {
				t.Errorf("http://%s refused: %v", host, err)
			}
			if !ok && (!errors.Is(err, kelviq.ErrInvalidConfig) || !strings.Contains(err.Error(), "loopback")) {
				t.Errorf("http://%s: error %v, want ErrInvalidConfig naming loopback", host, err)
			}
		}
	}
}
