// Command benchtable reads `go test -bench -benchmem` output on stdin and
// prints a short table: each benchmark's ns/op, B/op and allocs/op (and
// custom metrics), the median over its runs when -count repeated it, and for
// every family with a reference sub-benchmark ("baseline", "stock" or
// "sequential") the ratio of each other member to it, measured in the same
// run. `make bench` pipes into it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result is one benchmark line.
type result struct {
	name    string // without the Benchmark prefix and -GOMAXPROCS suffix
	metrics map[string]float64
	units   []string // in the order printed
	n       int      // runs merged into it
}

var references = []string{"baseline", "stock", "sequential"}

func main() {
	runs, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	results := medians(runs)
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark lines on stdin")
		os.Exit(1)
	}
	write(os.Stdout, results)
}

var line = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		res := result{name: m[1], metrics: map[string]float64{}}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", sc.Text(), err)
			}
			res.metrics[f[i+1]] = v
			res.units = append(res.units, f[i+1])
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// medians merges the runs of each benchmark (go test -count N) into one
// result holding the median of each metric, in the order first seen; n is
// the number of runs.
func medians(runs []result) []result {
	var order []string
	byName := map[string][]result{}
	for _, r := range runs {
		if _, seen := byName[r.name]; !seen {
			order = append(order, r.name)
		}
		byName[r.name] = append(byName[r.name], r)
	}
	out := make([]result, 0, len(order))
	for _, name := range order {
		rs := byName[name]
		m := result{name: name, metrics: map[string]float64{}, units: rs[0].units, n: len(rs)}
		for _, u := range rs[0].units {
			var vs []float64
			for _, r := range rs {
				vs = append(vs, r.metrics[u])
			}
			slices.Sort(vs)
			if len(vs)%2 == 1 {
				m.metrics[u] = vs[len(vs)/2]
			} else {
				m.metrics[u] = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
			}
		}
		out = append(out, m)
	}
	return out
}

func write(w io.Writer, results []result) {
	fmt.Fprintf(w, "%-48s %14s %12s %10s  %s\n", "benchmark (median of runs)", "ns/op", "B/op", "allocs/op", "other")
	for _, r := range results {
		var other []string
		for _, u := range r.units {
			if u != "ns/op" && u != "B/op" && u != "allocs/op" {
				other = append(other, fmt.Sprintf("%g %s", r.metrics[u], u))
			}
		}
		name := r.name
		if r.n > 1 {
			name = fmt.Sprintf("%s (%d)", r.name, r.n)
		}
		fmt.Fprintf(w, "%-48s %14.0f %12.0f %10.0f  %s\n", name, r.metrics["ns/op"], r.metrics["B/op"], r.metrics["allocs/op"], strings.Join(other, ", "))
	}

	byName := map[string]result{}
	for _, r := range results {
		byName[r.name] = r
	}
	printed := false
	for _, r := range results {
		i := strings.LastIndex(r.name, "/")
		family, member, ok := r.name[:max(i, 0)], r.name[i+1:], i >= 0
		if !ok || isReference(member) {
			continue
		}
		for _, ref := range references {
			base, ok := byName[family+"/"+ref]
			if !ok {
				continue
			}
			if !printed {
				fmt.Fprintf(w, "\n%-48s %10s %10s %14s\n", "ratio (same run)", "time", "bytes", "allocs (+/-)")
				printed = true
			}
			fmt.Fprintf(w, "%-48s %9.2fx %9.2fx %+14.0f\n", r.name+" vs "+ref,
				ratio(r.metrics["ns/op"], base.metrics["ns/op"]),
				ratio(r.metrics["B/op"], base.metrics["B/op"]),
				r.metrics["allocs/op"]-base.metrics["allocs/op"])
		}
	}
}

func isReference(member string) bool {
	for _, ref := range references {
		if member == ref {
			return true
		}
	}
	return false
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
