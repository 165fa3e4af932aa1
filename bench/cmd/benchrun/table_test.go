package main

import (
	"strings"
	"testing"
)

// TestTable: medians and ranges over the repetitions, the multi-instance
// rows by their kind, freshness from the steady runs, capped runs named.
func TestTable(t *testing.T) {
	b := &bench{cfg: &config{multi: 3}, results: []result{
		{System: "ours", Kind: "throughput", EPS: 1000, EPSPerCore: 5000, CPUPerMEvent: 200, CoresUsed: 0.2, PeakRSSMB: 100, StoreCPU: 4},
		{System: "ours", Kind: "throughput", EPS: 3000, EPSPerCore: 7000, CPUPerMEvent: 140, CoresUsed: 0.4, PeakRSSMB: 120, StoreCPU: 6},
		{System: "ours", Kind: "throughput", EPS: 2000, EPSPerCore: 6000, CPUPerMEvent: 160, CoresUsed: 0.3, PeakRSSMB: 110, StoreCPU: 5, Mismatched: 2},
		{System: "ours", Kind: "freshness", P50ms: 400, P99ms: 1500},
		{System: "ours-x3", Kind: "multi", EPS: 1234567, Partial: true, Mismatched: -1},
		{System: "spark", Kind: "throughput", EPS: 10},
	}}
	got := string(table(b))
	for _, want := range []string{
		"| ours | 2,000 (1,000-3,000) | 6,000 | 160.0 | 0.30 | 110 MB | 400 / 1,500 ms | `mismatched_windows=2`, store 5.0 CPU-s |",
		"| ours-x3 | 1,234,567 | 0 | 0.0 | 0.00 | 0 MB |  | 1 of 1 runs capped |",
		"| spark | 10 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "kstreams") {
		t.Errorf("table has a row for an engine that did not run:\n%s", got)
	}
}

// TestMedianEven: an even number of runs has the mean of the middle two
// as its median, not the larger one.
func TestMedianEven(t *testing.T) {
	b := &bench{cfg: &config{}, results: []result{
		{System: "spark", Kind: "throughput", EPS: 4000}, {System: "spark", Kind: "throughput", EPS: 1000},
		{System: "spark", Kind: "throughput", EPS: 3000}, {System: "spark", Kind: "throughput", EPS: 2000},
	}}
	if got := b.median("spark", "throughput", func(r result) float64 { return r.EPS }); got != 2500 {
		t.Fatalf("median of 1000..4000 = %v, want 2500", got)
	}
}
