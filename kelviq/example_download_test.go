package kelviq_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/kelviq/kelviq-go/kelviq"
)

// downloadCatalogPlanFile answers 302 to a signed URL; the client returns
// the redirect instead of following it. Its Location reads through the
// generated header accessors, without a nil check: "" when the result,
// the 302's headers or the header are absent.
func ExampleClient_DownloadCatalogPlanFileWithResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://files.example/plans/pro.pdf?signature=abc", http.StatusFound)
	}))
	defer srv.Close()
	client, err := kelviq.NewClient(kelviq.WithServerKey("sk_test_example"), kelviq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.DownloadCatalogPlanFileWithResponse(context.Background(), "pro", [16]byte{1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode(), res.GetHeaders302().GetLocation())
	// Output: 302 https://files.example/plans/pro.pdf?signature=abc
}
