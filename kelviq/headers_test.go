package kelviq_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/kelviq"
)

// downloadCatalogPlanFile's 302 against a loopback server: the Location
// reads with res.GetHeaders302().GetLocation(), no nil check; a 302
// without Location, and a nil result, read "" without a panic.
func TestDownloadLocationReadsWithoutNilChecks(t *testing.T) {
	const signed = "https://files.example/plans/pro.pdf?X-Amz-Signature=abc"
	location := signed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if location != "" {
			w.Header().Set("Location", location)
		}
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	c, err := kelviq.NewClient(kelviq.WithServerKey(testServerKey), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.DownloadCatalogPlanFileWithResponse(t.Context(), "pro", [16]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.GetHeaders302().GetLocation(); got != signed {
		t.Errorf("Location %q, want %q", got, signed)
	}

	location = "" // a 302 without the header the spec declares
	res, err = c.DownloadCatalogPlanFileWithResponse(t.Context(), "pro", [16]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetHeaders302() == nil || res.GetHeaders302().GetLocation() != "" {
		t.Errorf("absent Location: headers %+v", res.GetHeaders302())
	}

	var none *api.DownloadCatalogPlanFileResult // a call that failed
	if none.GetHeaders302() != nil || none.GetHeaders302().GetLocation() != "" {
		t.Error("a nil result reads headers")
	}
	if (&api.DownloadCatalogPlanFileResult{}).GetHeaders302().GetLocation() != "" {
		t.Error("a result of no 302 reads a Location")
	}
}
