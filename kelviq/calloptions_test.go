package kelviq_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// requestsTagged counts the requests the fake got with X-Test-Call: tag.
func requestsTagged(srv *kelviqtest.Server, tag string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Header.Get("X-Test-Call") == tag {
			n++
		}
	}
	return n
}

// concurrently runs f("option") and f("client") at the same time and
// returns their errors.
func concurrently(f func(tag string) error) (withOption, without error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); withOption = f("option") }()
	go func() { defer wg.Done(); without = f("client") }()
	wg.Wait()
	return withOption, without
}

// WithCallRetries changes the retries of its call only: a call beside it,
// at the same time, keeps the client's. Both ways: more than the client's,
// and none where the client retries.
func TestWithCallRetriesOneCallOnly(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client         int // WithRetries
		call           int // WithCallRetries
		option, others int // requests the server gets
	}{
		{"more than the client's", 0, 3, 4, 1},
		{"none where the client retries", 2, 0, 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each 503 takes a while, so that the two calls overlap.
			srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListCustomers, kelviqtest.Fault{Status: http.StatusServiceUnavailable, Delay: 20 * time.Millisecond}))
			c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), fastRetries, kelviq.WithRetries(tc.client))
			if err != nil {
				t.Fatal(err)
			}
			errOption, errClient := concurrently(func(tag string) error {
				editors := []api.RequestEditorFn{kelviq.WithCallHeader("X-Test-Call", tag)}
				if tag == "option" {
					editors = append(editors, kelviq.WithCallRetries(tc.call))
				}
				_, err := c.ListCustomersWithResponse(context.Background(), nil, editors...)
				return err
			})
			for _, err := range []error{errOption, errClient} {
				if e := (*kelviq.Error)(nil); !errors.As(err, &e) || e.StatusCode != 503 {
					t.Errorf("got %v, want the 503", err)
				}
			}
			if got := requestsTagged(srv, "option"); got != tc.option {
				t.Errorf("the call with WithCallRetries(%d) made %d attempts, want %d", tc.call, got, tc.option)
			}
			if got := requestsTagged(srv, "client"); got != tc.others {
				t.Errorf("the call beside it made %d attempts, want the client's %d", got, tc.others)
			}
		})
	}
}

// WithCallTimeout bounds its call only, shorter or longer than the
// client's: a concurrent call keeps the client's.
func TestWithCallTimeoutOneCallOnly(t *testing.T) {
	const delay = 300 * time.Millisecond // of every answer
	for _, tc := range []struct {
		name                     string
		client, call             time.Duration
		optionFails, clientFails bool
	}{
		{"shorter than the client's", time.Minute, 50 * time.Millisecond, true, false},
		{"longer than the client's", 50 * time.Millisecond, time.Minute, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := kelviqtest.NewServer(t, kelviqtest.WithFault(api.OpListCustomers, kelviqtest.Fault{Delay: delay}))
			c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithRetries(0),
				kelviq.WithHTTPClient(&http.Client{Timeout: tc.client}))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			errOption, errClient := concurrently(func(tag string) error {
				editors := []api.RequestEditorFn{kelviq.WithCallHeader("X-Test-Call", tag)}
				if tag == "option" {
					editors = append(editors, kelviq.WithCallTimeout(tc.call))
				}
				_, err := c.ListCustomersWithResponse(context.Background(), nil, editors...)
				return err
			})
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Fatalf("the calls took %v", elapsed) // hang detection only
			}
			for _, r := range []struct {
				who   string
				err   error
				fails bool
			}{{"the call with WithCallTimeout", errOption, tc.optionFails}, {"the call beside it", errClient, tc.clientFails}} {
				if r.fails != errors.Is(r.err, context.DeadlineExceeded) {
					t.Errorf("%s: got %v, want a deadline error: %v", r.who, r.err, r.fails)
				}
				if !r.fails && r.err != nil {
					t.Errorf("%s: %v", r.who, r.err)
				}
			}
		})
	}
}

// WithCallHeader sends its header; the headers the client sets itself,
// the credential ones first, are refused with an error naming the option,
// and nothing is sent. The refused value never shows in the error.
func TestWithCallHeader(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey), kelviq.WithPartnerKey(testPartnerKey))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ListCustomersWithResponse(ctx, nil, kelviq.WithCallHeader("x-request-tag", "t1")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Request-Tag") != "t1" {
		t.Fatalf("the header did not reach the server: %v", reqs)
	}
	const secret = "Bearer sk_live_caller_secret_0042"
	for _, tc := range []struct{ name, value, want string }{
		{"Authorization", secret, "credential"},
		{"authorization", secret, "credential"},
		{"X-Kelviq-Partner-Key", "kvqp_caller_secret_0042", "credential"},
		{"x-kelviq-partner-key", "kvqp_caller_secret_0042", "credential"},
		{"X_Kelviq_Partner_Key", "kvqp_caller_secret_0042", "credential"},
		{"x-kelviq_partner-key", "kvqp_caller_secret_0042", "credential"},
		{"AUTHORIZATION", secret, "credential"},
		{"Transfer-Encoding", "chunked", "sets it itself"},
		{"content_length", "1", "sets it itself"},
		{"Host", "evil.example", "sets it itself"},
		{"User-Agent", "x", "sets it itself"},
		{"Content-Length", "1", "sets it itself"},
		{"Bad Name", "x", "not a valid header name"},
		{"", "x", "not a valid header name"},
		{"X-Fine", "a\r\nAuthorization: " + secret, "control character"},
	} {
		_, err := c.ListCustomersWithResponse(ctx, nil, kelviq.WithCallHeader(tc.name, tc.value))
		if !errors.Is(err, kelviq.ErrInvalidCallOption) || !strings.Contains(err.Error(), "WithCallHeader") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WithCallHeader(%q): got %v, want ErrInvalidCallOption saying %q", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secret_0042") {
			t.Errorf("WithCallHeader(%q): the error shows the value: %v", tc.name, err)
		}
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("a refused call sent %d requests", n-1)
	}
}

// Out-of-range values fail the call, with nothing sent.
func TestCallOptionsRefuseBadValues(t *testing.T) {
	srv := kelviqtest.NewServer(t)
	c, err := kelviq.NewClient(kelviq.WithBaseURL(srv.URL), kelviq.WithServerKey(testServerKey))
	if err != nil {
		t.Fatal(err)
	}
	for name, ed := range map[string]api.RequestEditorFn{
		"WithCallTimeout(0)":   kelviq.WithCallTimeout(0),
		"WithCallTimeout(-1s)": kelviq.WithCallTimeout(-time.Second),
		"WithCallRetries(-1)":  kelviq.WithCallRetries(-1),
		"WithCallRetries(101)": kelviq.WithCallRetries(101),
	} {
		_, err := c.ListCustomersWithResponse(context.Background(), nil, ed)
		if !errors.Is(err, kelviq.ErrInvalidCallOption) || !strings.Contains(err.Error(), strings.SplitN(name, "(", 2)[0]) {
			t.Errorf("%s: got %v, want ErrInvalidCallOption naming the option", name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("refused calls sent %d requests", n)
	}
}
