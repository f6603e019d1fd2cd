package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// bin is the kelviq-usage binary the tests run, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kelviq-usage-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin = filepath.Join(dir, "kelviq-usage")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running kelviq-usage %v: %v", args, err)
	}
	return r
}

// runOK runs the binary and fails t unless it exits with want.
func runWant(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != want {
		t.Fatalf("kelviq-usage %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.code, want, r.stdout, r.stderr)
	}
	return r
}

// inspected is inspect -json's output.
type inspected struct {
	Queued []struct {
		Customer, Feature string
		Reports           int
		Leased            bool
	} `json:"queued"`
	DeadLetters []struct {
		ID, Customer, Feature, Behaviour, Reason, Error string
		Value, Status                                   int
	} `json:"dead_letters"`
}

func inspectJSON(t *testing.T, want int, args ...string) inspected {
	t.Helper()
	r := runWant(t, want, append([]string{"inspect", "-json"}, args...)...)
	var in inspected
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("inspect -json printed %q: %v", r.stdout, err)
	}
	return in
}

// fakeAPI is a loopback kelviq that accepts one server key (401 for any
// other) and sums the usage reported.
type fakeAPI struct {
	srv   *httptest.Server
	mu    sync.Mutex
	key   string
	usage map[string]int // by feature
}

func newFakeAPI(t *testing.T, key string) *fakeAPI {
	f := &fakeAPI{key: key, usage: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		f.mu.Lock()
		defer f.mu.Unlock()
		if req.Header.Get("Authorization") != "Bearer "+f.key {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail":"invalid key"}`))
			return
		}
		var b api.ReportUsageRequest
		if err := json.NewDecoder(req.Body).Decode(&b); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.usage[b.FeatureID] += b.Value
		_ = json.NewEncoder(w).Encode(map[string]any{"customerId": b.CustomerID, "featureId": b.FeatureID,
			"value": b.Value, "behaviour": b.Behaviour, "idempotencyKey": "k"})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) sum(feature string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage[feature]
}

func newKelviq(t *testing.T, url, key string) *kelviq.Client {
	t.Helper()
	c, err := kelviq.NewClient(kelviq.WithBaseURL(url), kelviq.WithServerKey(key), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
