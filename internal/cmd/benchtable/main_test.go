package main

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	in := `goos: linux
BenchmarkListCustomers100/kelviq-2    	 662	  1000000 ns/op	  200000 B/op	    4212 allocs/op
BenchmarkListCustomers100/baseline-2  	 489	  2000000 ns/op	  400000 B/op	    4210 allocs/op
BenchmarkParallel/kelviq-2            	 409	  2907361 ns/op	         2.000 conns	  322529 B/op	    5027 allocs/op
BenchmarkRoute/core-2                 	807405	      1414 ns/op	       0 B/op	       0 allocs/op
PASS`
	runs, err := parse(strings.NewReader(in + "\nBenchmarkRoute/core-2  1  3000 ns/op  0 B/op  0 allocs/op\nBenchmarkRoute/core-2  1  1000 ns/op  0 B/op  0 allocs/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	results := medians(runs)
	if r := results[3]; r.n != 3 || r.metrics["ns/op"] != 1414 {
		t.Errorf("median of Route/core: %+v", r)
	}
	if len(results) != 4 || results[2].metrics["conns"] != 2 || results[0].name != "ListCustomers100/kelviq" {
		t.Fatalf("parsed %+v", results)
	}
	var out strings.Builder
	write(&out, results)
	if !strings.Contains(out.String(), "ListCustomers100/kelviq vs baseline") || !strings.Contains(out.String(), "0.50x      0.50x             +2") {
		t.Errorf("table:\n%s", out.String())
	}
}
