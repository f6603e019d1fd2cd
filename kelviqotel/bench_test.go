package kelviqotel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqotel"
)

// onePartnerOrg is the documented example of GET /partner/organizations/.
var onePartnerOrg = []byte(`{"results":[{"userId":4271,"organizationIdentifier":"8e1d7b1a-6c4d-4e3a-9b2d-3f6e4c2b1ad0","organizationSlug":"acme-corp","clientKey":"ck_live_a1b2c3d4e5f6","serverKey":"sk_live_9z8y7x6w5v4u","partnerExternalId":"acme-corp"}],"count":1}`)

func partnerOrgHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(onePartnerOrg)))
	_, _ = w.Write(onePartnerOrg)
}

// rawPartnerOrgs is the floor: the same request with the same header through
// net/http, decoded with encoding/json into the same generated type.
func rawPartnerOrgs(ctx context.Context, hc *http.Client, url string) (*api.PartnerOrganizationList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Kelviq-Partner-Key", partnerKey)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var v api.PartnerOrganizationList
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// BenchmarkPartnerOrg is one partner organization listed over loopback:
// raw net/http (baseline), kelviq with no middleware, kelviq with
// kelviqotel on no-op providers, and on the real SDK with a sampler that
// drops every span (metrics recorded by the SDK, read by nothing).
func BenchmarkPartnerOrg(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(partnerOrgHandler))
	b.Cleanup(srv.Close)
	benchPartnerOrg(b, srv.URL, nil)
}

// BenchmarkPartnerOrgInMemory is BenchmarkPartnerOrg through an in-memory
// transport: what the client and the middleware cost, without the
// loopback's syscalls and scheduling (most of its time and noise).
func BenchmarkPartnerOrgInMemory(b *testing.B) {
	benchPartnerOrg(b, "http://127.0.0.1:1", memoryTransport{onePartnerOrg})
}

func benchPartnerOrg(b *testing.B, url string, rt http.RoundTripper) {
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		c := &http.Client{Transport: rt} // as internal/bench's baseline: no Timeout
		b.ReportAllocs()
		cpu0 := cpuTime()
		for b.Loop() {
			v, err := rawPartnerOrgs(ctx, c, url+"/partner/organizations/")
			if err != nil || len(v.Results) != 1 {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu0)
	})
	sdkTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	sdkMP := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = sdkTP.Shutdown(context.Background())
		_ = sdkMP.Shutdown(context.Background())
	})
	for _, tc := range []struct {
		name string
		mw   kelviq.Middleware
	}{
		{"kelviq", nil},
		{"kelviqotel-noop", kelviqotel.Middleware(kelviqotel.WithTracerProvider(tracenoop.NewTracerProvider()),
			kelviqotel.WithMeterProvider(metricnoop.NewMeterProvider()), kelviqotel.WithPropagator(propagation.TraceContext{}))},
		{"kelviqotel-sdk-drop", kelviqotel.Middleware(kelviqotel.WithTracerProvider(sdkTP),
			kelviqotel.WithMeterProvider(sdkMP), kelviqotel.WithPropagator(propagation.TraceContext{}))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			opts := []kelviq.Option{kelviq.WithPartnerKey(partnerKey), kelviq.WithBaseURL(url)}
			if rt != nil {
				// The client's own http.Client has DefaultTimeout; so has this.
				opts = append(opts, kelviq.WithHTTPClient(&http.Client{Transport: rt, Timeout: kelviq.DefaultTimeout}))
			}
			if tc.mw != nil {
				opts = append(opts, kelviq.WithMiddleware(tc.mw))
			}
			c, err := kelviq.NewClient(opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				res, err := c.ListPartnerOrganizationsWithResponse(ctx, nil)
				if err != nil || len(res.JSON200.Results) != 1 {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkPartnerOrgInterleaved measures the four variants of
// BenchmarkPartnerOrg (loopback) call by call in turn, in a rotating order,
// and reports the median time of one call of each and its ratio to the
// baseline's: each variant meets the same load from the machine's other
// jobs, which on this shared VM moves ns/op by 2× from one sub-benchmark to
// the next. One op is one call of each variant.
func BenchmarkPartnerOrgInterleaved(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(partnerOrgHandler))
	b.Cleanup(srv.Close)
	ctx := context.Background()
	raw := &http.Client{}
	sdkTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	sdkMP := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = sdkTP.Shutdown(context.Background())
		_ = sdkMP.Shutdown(context.Background())
	})
	client := func(mws ...kelviq.Middleware) *kelviq.Client {
		opts := []kelviq.Option{kelviq.WithPartnerKey(partnerKey), kelviq.WithBaseURL(srv.URL)}
		for _, m := range mws {
			opts = append(opts, kelviq.WithMiddleware(m))
		}
		c, err := kelviq.NewClient(opts...)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	kelviqCall := func(c *kelviq.Client) func() error {
		return func() error {
			res, err := c.ListPartnerOrganizationsWithResponse(ctx, nil)
			if err == nil && len(res.JSON200.Results) != 1 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	variants := []struct {
		name string
		call func() error
	}{
		{"baseline", func() error { _, err := rawPartnerOrgs(ctx, raw, srv.URL+"/partner/organizations/"); return err }},
		{"kelviq", kelviqCall(client())},
		{"kelviqotel-noop", kelviqCall(client(kelviqotel.Middleware(kelviqotel.WithTracerProvider(tracenoop.NewTracerProvider()),
			kelviqotel.WithMeterProvider(metricnoop.NewMeterProvider()), kelviqotel.WithPropagator(propagation.TraceContext{}))))},
		{"kelviqotel-sdk-drop", kelviqCall(client(kelviqotel.Middleware(kelviqotel.WithTracerProvider(sdkTP),
			kelviqotel.WithMeterProvider(sdkMP), kelviqotel.WithPropagator(propagation.TraceContext{}))))},
	}
	times := make([][]time.Duration, len(variants))
	b.ReportAllocs()
	turn := 0
	for b.Loop() {
		for k := range variants {
			i := (turn + k) % len(variants)
			start := time.Now()
			if err := variants[i].call(); err != nil {
				b.Fatal(err)
			}
			times[i] = append(times[i], time.Since(start))
		}
		turn++
	}
	b.StopTimer()
	medians := make([]float64, len(variants))
	for i, ts := range times {
		slices.Sort(ts)
		medians[i] = float64(ts[len(ts)/2].Nanoseconds())
		b.ReportMetric(medians[i], variants[i].name+"-ns/call")
	}
	for i := 1; i < len(variants); i++ {
		b.ReportMetric(medians[i]/medians[0], variants[i].name+"/baseline")
	}
}

// reportCPU reports the process's CPU time per operation since cpu0, the
// loopback server's included: unlike ns/op, it hardly depends on what else
// runs on the machine (this VM's 2 cores are shared).
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if used := cpuTime() - cpu0; cpu0 > 0 && used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// memoryTransport answers every request with fixed bytes, without a
// network.
type memoryTransport struct{ body []byte }

func (m memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(m.body))}},
		ContentLength: int64(len(m.body)),
		Body:          io.NopCloser(bytes.NewReader(m.body)),
		Request:       req,
	}, nil
}
