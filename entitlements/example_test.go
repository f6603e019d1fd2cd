package entitlements_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/kelviq/kelviq-go/entitlements"
	"github.com/kelviq/kelviq-go/kelviq"
	"github.com/kelviq/kelviq-go/kelviqtest"
)

// Gate an HTTP handler on a feature. The customer comes from your own
// authentication (a header here); the Checker answers from memory after the
// first request of each customer. Access is denied on any error, but only
// (false, nil) is "not in your plan" (403): when kelviq is unreachable and
// nothing recent enough is known (ErrUnavailable) the handler answers 503,
// and kelviq's refusal (an unknown customer, a wrong key) is the app's
// problem, 500 — never a lost feature to the end user.
func Example_gateHandler() {
	// kelviq for this example: the fake server, where cust_pro has the
	// csv-export feature and cust_free has nothing.
	fake, err := kelviqtest.NewHandler(kelviqtest.WithResponseFunc("getCustomerEntitlements", func(r *http.Request) kelviqtest.Response {
		switch id := r.URL.Query().Get("customer_id"); id {
		case "cust_pro":
			return kelviqtest.Response{Body: `{"customerId":"cust_pro","entitlements":[{"featureId":"csv-export","featureType":"BOOLEAN","hasAccess":true}]}`}
		case "cust_free":
			return kelviqtest.Response{Body: `{"customerId":"cust_free","entitlements":[]}`}
		default:
			return kelviqtest.Response{Status: http.StatusNotFound, Body: `{"detail":"Customer does not exist."}`}
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	kelviqSrv := httptest.NewServer(fake)
	defer kelviqSrv.Close()

	client, err := kelviq.NewClient(kelviq.WithBaseURL(kelviqSrv.URL), kelviq.WithServerKey(kelviqtest.ServerKey))
	if err != nil {
		log.Fatal(err)
	}
	checker, err := entitlements.New(client)
	if err != nil {
		log.Fatal(err)
	}

	// requireFeature lets a request through only when its customer has the
	// feature.
	requireFeature := func(feature string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			customer := r.Header.Get("X-Customer-ID") // your session's customer
			ok, err := checker.HasAccess(r.Context(), customer, feature)
			switch {
			case errors.Is(err, entitlements.ErrUnavailable):
				http.Error(w, "billing is unreachable, try again shortly", http.StatusServiceUnavailable)
			case err != nil: // kelviq's refusal: an unknown customer, a wrong key (log err)
				http.Error(w, "cannot check your plan", http.StatusInternalServerError)
			case !ok: // (false, nil): the plan lacks the feature
				http.Error(w, "your plan does not include "+feature, http.StatusForbidden)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
	export := requireFeature("csv-export", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "id,amount")
	}))

	get := func(customer string) {
		req := httptest.NewRequest(http.MethodGet, "/export.csv", nil)
		req.Header.Set("X-Customer-ID", customer)
		rec := httptest.NewRecorder()
		export.ServeHTTP(rec, req)
		fmt.Println(customer, rec.Code)
	}
	for _, customer := range []string{"cust_pro", "cust_free", "cust_unknown", "cust_pro"} {
		get(customer)
	}
	// kelviq starts failing: cust_pro is served from memory, a customer
	// with nothing known gets 503, not 403.
	if err := fake.SetFault("getCustomerEntitlements", kelviqtest.Fault{Status: http.StatusServiceUnavailable}); err != nil {
		log.Fatal(err)
	}
	get("cust_pro")
	get("cust_new")
	st := checker.Stats()
	fmt.Printf("calls to kelviq: %d, answered from memory: %d, denied: %d\n", st.APICalls, st.Hits, st.Denied)
	// Output:
	// cust_pro 200
	// cust_free 403
	// cust_unknown 500
	// cust_pro 200
	// cust_pro 200
	// cust_new 503
	// calls to kelviq: 4, answered from memory: 2, denied: 3
}
