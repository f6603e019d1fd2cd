package kelviqtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kelviqgo "github.com/kelviq/kelviq-go"
)

// benchRequests are a mix of validated requests: a list with query
// parameters, a create with a JSON body, an edge operation and a partner
// operation.
var benchRequests = []struct {
	method, path, body string
	header             http.Header
}{
	{"GET", "/customers/?page=2&page_size=50", "", bearer(ServerKey)},
	{"POST", "/customers/", `{"customerId":"cust_1","email":"jane@example.com","name":"Jane","metadata":{"plan":"pro"}}`, bearer(ServerKey)},
	{"GET", "/entitlements/?customer_id=cust_1&feature_id=seats", "", bearer(ServerKey)},
	{"POST", "/report/usage/", `{"value":3,"customerId":"cust_1","featureId":"seats","behaviour":"DELTA"}`, bearer(ServerKey)},
	{"POST", "/partner/organizations/", `{"externalId":"acme","email":"owner@acme.example.com"}`, partner(PartnerKey)},
}

// statelessRequest builds the i-th request of the stateless mix for base.
func statelessRequest(base string, i int64) *http.Request {
	br := benchRequests[int(i)%len(benchRequests)]
	return newRequest(base, br.method, br.path, br.body, br.header)
}

// newRequest is a request with the header's credential, and a JSON body
// when body is not "".
func newRequest(base, method, path, body string, header http.Header) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, r)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// BenchmarkHandler measures the fake itself (routing, credentials,
// validation, answer), without the network, on all cores.
func BenchmarkHandler(b *testing.B) {
	benchHandler(b, statelessRequest, WithStateless())
}

// BenchmarkServer measures validated requests per second over loopback
// HTTP, client and server on the same cores.
func BenchmarkServer(b *testing.B) {
	benchLoopback(b, statelessRequest, WithStateless())
}

// benchHandler serves requests to a Handler directly, in parallel.
func benchHandler(b *testing.B, request func(base string, i int64) *http.Request, opts ...Option) {
	h, err := NewHandler(append([]Option{WithoutRecording()}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := request("http://kelviqtest.invalid", n.Add(1))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 300 {
				b.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// benchLoopback sends requests to a Server over loopback HTTP, in
// parallel, and reports req/s and req/cpu-s.
func benchLoopback(b *testing.B, request func(base string, i int64) *http.Request, opts ...Option) {
	srv := NewServer(b, append([]Option{WithoutRecording()}, opts...)...)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var n atomic.Int64
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := request(srv.URL, n.Add(1))
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 300 {
				b.Fatalf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
			}
		}
	})
	reportCPU(b, cpu0)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkNewHandler is the cost of a Handler once the spec is loaded.
func BenchmarkNewHandler(b *testing.B) {
	if _, err := loadSpec(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := NewHandler(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadSpec is the one-time cost of loading the spec and
// precomputing every response.
func BenchmarkLoadSpec(b *testing.B) {
	for b.Loop() {
		if _, err := buildSpec(kelviqgo.OpenAPISpec); err != nil {
			b.Fatal(err)
		}
	}
}

// Concurrent requests are served correctly (run with -race).
func TestConcurrentRequests(t *testing.T) {
	srv := NewServer(t, WithStateless())
	const workers, each = 8, 25
	errs := make(chan string, workers*each)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				br := benchRequests[(w+i)%len(benchRequests)]
				var body io.Reader
				if br.body != "" {
					body = strings.NewReader(br.body)
				}
				req, _ := http.NewRequest(br.method, srv.URL+br.path, body)
				for k, v := range br.header {
					req.Header[k] = v
				}
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode >= 300 {
					errs <- br.method + " " + br.path + ": " + res.Status
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(srv.Requests()); n != workers*each {
		t.Errorf("%d requests recorded, want %d", n, workers*each)
	}
}

// statefulRequests are a mix over the stateful operations, every one
// validated and answered from the store; {n} is a number unique to the
// request, so creates never collide.
var statefulRequests = []struct {
	method, path, body string
	header             http.Header
}{
	{"POST", "/customers/", `{"customerId":"bench_{n}","email":"b{n}@example.com","name":"Bench {n}"}`, bearer(ServerKey)},
	{"GET", "/customers/?page=1&page_size=20", "", bearer(ServerKey)},
	{"PATCH", "/customers/cust_acme/", `{"name":"Acme {n}"}`, bearer(ServerKey)},
	{"POST", "/report/usage/", `{"value":1,"customerId":"cust_acme","featureId":"seats","behaviour":"DELTA"}`, bearer(ServerKey)},
	{"GET", "/entitlements/?customer_id=cust_acme&feature_id=seats", "", bearer(ServerKey)},
	{"POST", "/partner/organizations/", `{"externalId":"bench-{n}","email":"owner{n}@example.com","businessName":"Bench {n}"}`, partner(PartnerKey)},
	{"GET", "/partner/organizations/by-external-id/acme-corp/", "", partner(PartnerKey)},
	{"POST", "/checkout/", `{"planIdentifier":"plan-pro","successUrl":"https://example.com/ok","chargePeriod":"MONTHLY","customerId":"cust_acme"}`, bearer(ServerKey)},
}

// statefulRequest builds the i-th request of the stateful mix for base.
func statefulRequest(base string, i int64) *http.Request {
	br := statefulRequests[int(i)%len(statefulRequests)]
	return newRequest(base, br.method, br.path, strings.ReplaceAll(br.body, "{n}", strconv.FormatInt(i, 10)), br.header)
}

// BenchmarkHandlerStateful measures the stateful fake itself (routing,
// credentials, validation, store), without the network, on all cores.
func BenchmarkHandlerStateful(b *testing.B) {
	benchHandler(b, statefulRequest, WithSeed(bytes.NewReader(ExampleSeed)))
}

// BenchmarkServerStateful measures validated requests per second of the
// stateful fake over loopback HTTP, client and server on the same cores.
func BenchmarkServerStateful(b *testing.B) {
	benchLoopback(b, statefulRequest, WithSeed(bytes.NewReader(ExampleSeed)))
}

// reportCPU reports requests per CPU-second used by the whole process
// (client and fake): on a machine shared with other work, wall-clock
// req/s depends on the neighbours, while req/cpu-s does not; two cores
// of one's own serve about twice req/cpu-s.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if used := cpuTime() - cpu0; cpu0 > 0 && used > 0 {
		b.ReportMetric(float64(b.N)/used.Seconds(), "req/cpu-s")
	}
}
