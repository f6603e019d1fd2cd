package kelviq

import (
	"net/http"
	"time"

	"github.com/kelviq/kelviq-go/api"
)

// DefaultTimeout bounds a whole call (all its attempts) when the client
// makes its own http.Client. Pass WithHTTPClient to choose another; a
// context deadline always applies as well.
const DefaultTimeout = 80 * time.Second

// Client calls the kelviq API. Every operation of the spec is a method of
// the embedded *api.ClientWithResponses, e.g. ListCustomersWithResponse,
// with typed parameters, bodies and results. A Client is safe for
// concurrent use; make one and share it.
type Client struct {
	*api.ClientWithResponses

	env        Environment
	router     *router
	httpClient *http.Client
}

// NewClient returns a client configured by opts. It needs at least one
// credential (WithServerKey, WithPartnerKey, or FromEnv finding one), and
// checks every option: an error names the option or variable at fault,
// wraps ErrInvalidConfig, and never contains a key.
func NewClient(opts ...Option) (*Client, error) {
	var cfg config
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	r, err := newRouter(s)
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(s)
	gen, err := api.NewClientWithResponses(r.base.String(),
		api.WithHTTPClient(hc),
		api.WithRequestEditorFn(r.edit),
	)
	if err != nil {
		return nil, err
	}
	return &Client{ClientWithResponses: gen, env: s.env, router: r, httpClient: hc}, nil
}

// Environment returns the environment the client calls.
func (c *Client) Environment() Environment { return c.env }

// newHTTPClient copies the caller's http.Client (or makes one) and wraps its
// transport; the caller's client is never modified.
func newHTTPClient(s *settings) *http.Client {
	var hc http.Client
	if s.httpClient != nil {
		hc = *s.httpClient
	} else {
		hc.Timeout = DefaultTimeout
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = next
	return &hc
}
