package bench

import (
	"encoding/json"
	"testing"

	"github.com/kelviq/kelviq-go/api"
	"github.com/kelviq/kelviq-go/internal/bench/stockapi"
)

// BenchmarkDecodeCustomers100 isolates decoding, the bulk of a call: the
// same page into package api's types and into the stock output's.
func BenchmarkDecodeCustomers100(b *testing.B) {
	page := customersPage(100)
	b.Run("kelviq", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			var v api.CustomerListResponse
			if err := json.Unmarshal(page, &v); err != nil || len(v.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("stock", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			var v stockapi.CustomerListResponse
			if err := json.Unmarshal(page, &v); err != nil || len(v.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
}
