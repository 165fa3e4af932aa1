package aggregate

import (
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// TestTotalsMatchSimulatorTruth feeds the simulator's push traffic
// (duplicates, late deliveries within the correction horizon, malformed
// bodies) and compares with simulate.Truth window by window, with the
// production time rules (2 h lateness, 24 h correction horizon).
func TestTotalsMatchSimulatorTruth(t *testing.T) {
	w := newWorld(t, 2)
	world, err := simulate.NewWorld(7, simulate.WorldOptions{Apps: 1, Campaigns: 1})
	if err != nil {
		t.Fatal(err)
	}
	traffic, err := world.Traffic(simulate.TrafficOptions{
		Rate: 0.004, DuplicateShare: 0.08, LateShare: 0.05, MalformedShare: 0.03, MaxLateness: 3 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	ds := traffic.Take(300)
	st := simulate.NewTruth(w.loc)
	st.ObserveDeliveries(ds, false)
	var recs []genRecord
	for i := range ds {
		src := metricdoc.SourcePush
		if i%4 == 0 {
			src = metricdoc.SourcePull
		}
		recs = append(recs, genRecord{key: []byte{byte(i % 7)}, value: ds[i].JSON(false), source: src, ts: ds[i].At})
		if ds[i].Event != nil {
			recs[i].key = []byte(ds[i].Event.Fields()["app_id"] + "|" + ds[i].Event.Fields()["appsflyer_id"])
		}
	}
	tr := truth{windows: make(map[truthKey]metricdoc.Totals), counted: st.Unique(), duplicates: st.Duplicates(), dlq: st.Malformed(), n: st.Produced()}
	for _, g := range metricdoc.Granularities {
		for k, v := range st.Windows(g) {
			tr.windows[truthKey{g, k.Start.Unix(), k.Meta}] = v
		}
	}
	t.Logf("simulated %s..%s: %s", ds[0].At.Format(time.RFC3339), ds[len(ds)-1].At.Format(time.RFC3339), describe(tr))

	w.start(Options{AllowedLateness: 2 * time.Hour, CorrectionHorizon: 6 * time.Hour})
	for _, c := range chunks(recs, 2) {
		w.produce(c)
	}
	w.waitCaughtUp(45 * time.Second)
	w.check(tr)
}
