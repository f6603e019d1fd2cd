package kelviqgo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	kelviqgo "github.com/kelviq/kelviq-go"
)

// OPENAPI_VERSION records the sha256 of openapi.json: a spec updated without
// its record (or edited by hand) fails here.
func TestOpenAPIVersionMatchesSpec(t *testing.T) {
	m := regexp.MustCompile(`(?m)^sha256: ([0-9a-f]{64})$`).FindStringSubmatch(kelviqgo.OpenAPIVersion)
	if m == nil {
		t.Fatal("OPENAPI_VERSION has no sha256 line")
	}
	sum := sha256.Sum256(kelviqgo.OpenAPISpec)
	if got := hex.EncodeToString(sum[:]); got != m[1] {
		t.Errorf("openapi.json has sha256 %s, OPENAPI_VERSION records %s", got, m[1])
	}
	for _, field := range []string{"repository", "path", "commit", "date"} {
		if !regexp.MustCompile(`(?m)^` + field + `: \S`).MatchString(kelviqgo.OpenAPIVersion) {
			t.Errorf("OPENAPI_VERSION has no %s", field)
		}
	}
}

// A program that imports only the client compiles only the client: neither
// kin-openapi nor oasdiff (nor the generator), nor go-redis or the LRU of
// package entitlements, nor OpenTelemetry (package kelviqotel's), is a
// dependency of api or kelviq. And kelviqotel uses the OpenTelemetry API
// only: the SDK is the application's choice (kelviqotel's tests use it).
func TestClientDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "./api", "./kelviq").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list printed %d packages; it did not list the dependencies", len(deps))
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/getkin/kin-openapi", "github.com/oasdiff/", "github.com/oapi-codegen/oapi-codegen",
			// entitlements' dependencies, and entitlements itself: kelviq never imports it.
			"github.com/redis/go-redis", "github.com/hashicorp/golang-lru", "github.com/kelviq/kelviq-go/entitlements",
			// OpenTelemetry, and the package that brings it.
			"go.opentelemetry.io/", "github.com/kelviq/kelviq-go/kelviqotel"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("api or kelviq depends on %s", dep)
			}
		}
	}

	out, err = exec.Command("go", "list", "-deps", "./kelviqotel").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps = strings.Fields(string(out))
	if !slices.Contains(deps, "go.opentelemetry.io/otel/trace") {
		t.Fatalf("go list -deps ./kelviqotel printed no OpenTelemetry API: %v", deps)
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "go.opentelemetry.io/otel/sdk") {
			t.Errorf("kelviqotel depends on the OpenTelemetry SDK (%s)", dep)
		}
	}
}
