package aggregate

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestVisibleAgeObservesNewestPerFlush: one observation per source and
// store round, of the newest event made visible, and none for a round that
// made nothing newer visible.
func TestVisibleAgeObservesNewestPerFlush(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	// What applyRound gathers from a round's parts: newest ingest per source.
	newest := map[string]int64{metricdoc.SourcePush: 10_400, metricdoc.SourcePull: 2_000}
	m.observeVisible(newest, 11_900)
	m.observeVisible(newest, 12_900) // nothing newer

	for _, c := range []struct {
		name string
		sum  float64
	}{{metricdoc.SourcePush, 1.5}, {metricdoc.SourcePull, 9.9}} {
		mf := gatherHistogram(t, reg, c.name)
		if mf.count != 1 || mf.sum < c.sum-1e-9 || mf.sum > c.sum+1e-9 {
			t.Errorf("%s: count %d sum %v, want 1 observation of %v s", c.name, mf.count, mf.sum, c.sum)
		}
	}
}

type histo struct {
	count uint64
	sum   float64
}

func gatherHistogram(t *testing.T, reg *prometheus.Registry, source string) histo {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "campaignpulse_aggregate_visible_age_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					return histo{m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()}
				}
			}
		}
	}
	t.Fatalf("no %s series", source)
	return histo{}
}
