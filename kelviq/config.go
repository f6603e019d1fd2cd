package kelviq

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"unicode"
)

// partnerKeyPrefix starts every kelviq partner key.
const partnerKeyPrefix = "kvqp_"

// Environment variables read by FromEnv.
const (
	envEnvironment      = "KELVIQ_ENV"
	envServerKey        = "KELVIQ_SERVER_API_KEY"
	envSandboxServerKey = "KELVIQ_SANDBOX_SERVER_API_KEY"
	envPartnerKey       = "KELVIQ_PARTNER_KEY"
	envBaseURL          = "KELVIQ_BASE_URL"
	envEdgeURL          = "KELVIQ_EDGE_URL"
)

// settings is the checked configuration a Client is built from.
type settings struct {
	serverKey  string // "" when not given
	partnerKey string // "" when not given
	env        Environment
	baseURL    *url.URL // nil: kelviq's hosts
	edgeURL    *url.URL // nil: baseURL, or kelviq's edge hosts
	httpClient *http.Client
	userAgent  string
	retry      RetryPolicy  // complete; MaxAttempts 1: no retries
	logger     *slog.Logger // nil: no logging
	maxBody    int64        // the largest response body read
	maxPages   int          // of one iterator walk
	clock      clock        // of the retry transport
}

func configError(what, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, what, fmt.Sprintf(format, args...))
}

// resolve merges FromEnv's variables under the explicit options and checks
// everything. Errors name the option or variable, never a key's value.
func (c *config) resolve() (*settings, error) {
	getenv := c.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	// name of the option or variable each value came from, for errors.
	serverFrom, partnerFrom, baseFrom, edgeFrom := "WithServerKey", "WithPartnerKey", "WithBaseURL", "WithEdgeURL"

	if c.fromEnv {
		if !c.environment.set {
			if v := getenv(envEnvironment); v != "" {
				env, err := ParseEnvironment(v)
				if err != nil {
					return nil, configError(envEnvironment, "%v", err)
				}
				c.environment.put(env)
			} else if getenv(envServerKey) == "" && getenv(envSandboxServerKey) != "" {
				c.environment.put(Sandbox)
			}
		}
		if !c.serverKey.set {
			name := envServerKey
			if c.environment.set && c.environment.value == Sandbox {
				name = envSandboxServerKey
			}
			if v := getenv(name); v != "" {
				c.serverKey.put(v)
				serverFrom = name
			}
		}
		if v := getenv(envPartnerKey); v != "" && !c.partnerKey.set {
			c.partnerKey.put(v)
			partnerFrom = envPartnerKey
		}
		if v := getenv(envBaseURL); v != "" && !c.baseURL.set {
			c.baseURL.put(v)
			baseFrom = envBaseURL
		}
		if v := getenv(envEdgeURL); v != "" && !c.edgeURL.set {
			c.edgeURL.put(v)
			edgeFrom = envEdgeURL
		}
	}

	s := &settings{env: Production}
	if c.environment.set {
		if !c.environment.value.valid() {
			return nil, configError("WithEnvironment", "unknown environment %q: want kelviq.Production or kelviq.Sandbox", string(c.environment.value))
		}
		s.env = c.environment.value
	}

	if !c.serverKey.set && !c.partnerKey.set {
		return nil, configError("credentials", "no key given: use WithServerKey, WithPartnerKey or FromEnv")
	}
	if c.serverKey.set {
		if err := checkKey(serverFrom, c.serverKey.value); err != nil {
			return nil, err
		}
		if strings.HasPrefix(c.serverKey.value, partnerKeyPrefix) {
			return nil, configError(serverFrom, "the key is a partner key (it starts with %q): pass it with WithPartnerKey", partnerKeyPrefix)
		}
		s.serverKey = c.serverKey.value
	}
	if c.partnerKey.set {
		if err := checkKey(partnerFrom, c.partnerKey.value); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(c.partnerKey.value, partnerKeyPrefix) {
			return nil, configError(partnerFrom, "a partner key starts with %q and this one does not", partnerKeyPrefix)
		}
		s.partnerKey = c.partnerKey.value
	}

	var err error
	if c.baseURL.set {
		if s.baseURL, err = checkBaseURL(baseFrom, c.baseURL.value); err != nil {
			return nil, err
		}
	}
	if c.edgeURL.set {
		if s.edgeURL, err = checkBaseURL(edgeFrom, c.edgeURL.value); err != nil {
			return nil, err
		}
	}

	if c.httpClient.set {
		if c.httpClient.value == nil {
			return nil, configError("WithHTTPClient", "the *http.Client is nil")
		}
		s.httpClient = c.httpClient.value
	}
	if c.userAgent.set {
		if strings.IndexFunc(c.userAgent.value, unicode.IsControl) >= 0 {
			return nil, configError("WithUserAgent", "the user agent contains a control character")
		}
		s.userAgent = strings.TrimSpace(c.userAgent.value)
	}

	s.retry = DefaultRetryPolicy()
	if c.retryPolicy.set {
		p := c.retryPolicy.value
		if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
			return nil, configError("WithRetryPolicy", "a field is negative; zero means the default, MaxAttempts 1 means no retries")
		}
		if p.MaxAttempts > maxRetries+1 {
			return nil, configError("WithRetryPolicy", "MaxAttempts %d is more than %d", p.MaxAttempts, maxRetries+1)
		}
		s.retry = p.withDefaults()
	}
	if c.retries.set {
		switch n := c.retries.value; {
		case n < 0:
			return nil, configError("WithRetries", "%d retries: want 0 (no retries) or more", n)
		case n > maxRetries:
			return nil, configError("WithRetries", "%d retries is more than %d", n, maxRetries)
		default:
			s.retry.MaxAttempts = n + 1
		}
	}
	s.logger = c.logger.value

	s.maxBody = DefaultMaxResponseBytes
	if c.maxBody.set {
		if c.maxBody.value <= 0 {
			return nil, configError("WithMaxResponseBytes", "the limit must be positive, not %d", c.maxBody.value)
		}
		s.maxBody = c.maxBody.value
	}

	s.maxPages = DefaultMaxPages
	if c.maxPages.set {
		if c.maxPages.value <= 0 {
			return nil, configError("WithMaxPages", "the limit must be positive, not %d", c.maxPages.value)
		}
		s.maxPages = c.maxPages.value
	}

	s.clock = realClock()
	if c.now != nil {
		s.clock.now = c.now
	}
	if c.sleep != nil {
		s.clock.sleep = c.sleep
	}
	if c.jitter != nil {
		s.clock.jitter = c.jitter
	}
	return s, nil
}

// checkKey rejects keys that cannot be sent in a header as they are. The
// message says what is wrong with the key, never what the key is.
func checkKey(from, key string) error {
	switch {
	case key == "":
		return configError(from, "the key is empty")
	case strings.IndexFunc(key, unicode.IsSpace) >= 0:
		return configError(from, "the key contains whitespace (a stray newline or space from copying it?)")
	case strings.IndexFunc(key, unicode.IsControl) >= 0:
		return configError(from, "the key contains a control character")
	}
	return nil
}

// checkBaseURL accepts an absolute https URL, or http on a loopback host
// (a local fake or proxy). It rejects user info, queries and fragments.
// Errors show the scheme and host at most: a URL may carry a password.
func checkBaseURL(from, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, configError(from, "not an absolute http(s) URL")
	}
	if u.User != nil {
		return nil, configError(from, "the URL carries user info; pass credentials with WithServerKey or WithPartnerKey")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, configError(from, "the URL has a query or fragment; give only scheme, host and path")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, configError(from, "http://%s is not https: plain http is allowed only to a loopback host, so keys never cross a network in clear", u.Host)
	}
	// The generated builders resolve every path against the URL, which
	// removes dot segments, and the client keeps the decoded path: such a
	// base URL would fail every call with ErrUnknownOperation, or send it
	// to another path than the one given.
	if hasDotSegment(u.EscapedPath() + "/") {
		return nil, configError(from, "the URL's path has a \".\" or \"..\" segment; give the path it resolves to")
	}
	if low := strings.ToLower(u.EscapedPath()); strings.Contains(low, "%2f") || strings.Contains(low, "%5c") {
		return nil, configError(from, "the URL's path has an escaped '/' or '\\', which the client would not keep")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopback reports a host that never leaves the machine: an IP literal in
// 127.0.0.0/8 (IPv4-mapped ones included) or ::1, or the exact name
// "localhost". Not "*.localhost": Go resolves those names through DNS like
// any other, so one could be anywhere. Not "localhost." either, for the
// same reason.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
