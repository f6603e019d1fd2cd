package usage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/usage"
)

// A metered HTTP handler: every search a customer makes is reported as a
// DELTA of 1. Report returns once the report is on disk, so the handler
// answers only for work that will be billed, and kelviq being slow or down
// never slows the handler beyond a disk sync.
func Example_meteredHandler() {
	kelviqAPI := newCountingAPI() // a stand-in for kelviq, on loopback
	defer kelviqAPI.Close()

	client, err := kelviq.NewClient(kelviq.WithBaseURL(kelviqAPI.URL), kelviq.WithServerKey("sk_test_example"))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "usage-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	reporter, err := usage.NewReporter(client, usage.WithPath(filepath.Join(dir, "usage.db")))
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, req *http.Request) {
		customerID := req.Header.Get("X-Customer-ID") // from your authentication
		results := "3 results"                        // the work being metered
		err := reporter.Report(req.Context(), customerID, "searches", 1, api.ReportUsageRequestBehaviourDELTA)
		if err != nil {
			// Not stored (bad input, or the disk failed): do not give
			// away work that cannot be billed.
			http.Error(w, "metering is unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, results)
	})
	app := httptest.NewServer(mux)
	defer app.Close()

	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/search", nil)
		req.Header.Set("X-Customer-ID", "cust_42")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(string(body))
	}

	// At shutdown: send what can be sent in 5 s; the rest stays on disk
	// for the next start.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := reporter.Close(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("kelviq counted", kelviqAPI.count("cust_42", "searches"), "searches for cust_42")
	// Output:
	// 3 results
	// 3 results
	// 3 results
	// kelviq counted 3 searches for cust_42
}

// countingAPI is a minimal reportUsage endpoint for the example.
type countingAPI struct {
	*httptest.Server
	mu    sync.Mutex
	usage map[string]int
}

func newCountingAPI() *countingAPI {
	a := &countingAPI{usage: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body api.ReportUsageRequest
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			http.Error(w, `{"detail":"bad body"}`, http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		k := body.CustomerID + "/" + body.FeatureID
		if body.Behaviour == api.ReportUsageRequestBehaviourSET {
			a.usage[k] = body.Value
		} else {
			a.usage[k] += body.Value
		}
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	return a
}

func (a *countingAPI) count(customerID, featureID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.usage[customerID+"/"+featureID]
}
