package plugin

import (
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

func TestFollowerKeepsNewestPerPartitionAndSums(t *testing.T) {
	w := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	f := newFollower(request.Query{
		Measure: metricdoc.MeasureInstalls, Granularity: metricdoc.Hour, GroupBy: []string{metricdoc.DimCampaign},
		Filters: map[string][]string{metricdoc.DimApp: {"a1", "a2"}},
	})
	mk := func(campaign, event string, part int32, events, offset int64) *metricdoc.Update {
		return &metricdoc.Update{Granularity: metricdoc.Hour, WindowStart: w, Partition: part, Offset: offset,
			Meta: metricdoc.Meta{AppID: "a1", Campaign: campaign, EventName: event}, Totals: metricdoc.Totals{Events: events}}
	}
	steps := []struct {
		u       *metricdoc.Update
		changed bool
	}{
		{mk("c", "install", 0, 5, 10), true},
		{mk("c", "install", 0, 7, 20), true},
		{mk("c", "install", 0, 6, 15), false}, // older
		{mk("c", "install", 0, 7, 20), false}, // repeat
		{mk("c", "install", 1, 3, 2), true},   // other partition adds
		{mk("c", "purchase", 0, 9, 30), false},
		{func() *metricdoc.Update { u := mk("c", "install", 0, 1, 99); u.Meta.AppID = "zz"; return u }(), false},
		{func() *metricdoc.Update { u := mk("c", "install", 0, 1, 99); u.Granularity = metricdoc.Day; return u }(), false},
	}
	for i, s := range steps {
		if got := f.apply(s.u); got != s.changed {
			t.Errorf("step %d: changed = %v, want %v", i, got, s.changed)
		}
	}
	var sum int64
	for _, r := range f.rows() {
		if r.Group[0] != "c" || !r.Window.Equal(w) {
			t.Errorf("row %+v", r)
		}
		sum += r.Value
	}
	if sum != 10 {
		t.Errorf("sum over partitions = %d, want 10", sum)
	}
	f.prune(w.Add(time.Hour))
	if len(f.rows()) != 0 {
		t.Error("prune kept an old window")
	}
}

func TestStreamPathRoundTrip(t *testing.T) {
	ds := &Datasource{cfg: &config{loc: time.UTC}, now: func() time.Time { return time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC) }}
	path, err := StreamPath(metricdoc.Query{Measure: metricdoc.MeasureEvents, Granularity: "hour", Filters: map[string][]string{"campaign": {"x"}}}, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range path {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '/' || c == '=' || c == '.') {
			t.Fatalf("path %q has %q, not allowed in a Grafana Live channel", path, c)
		}
	}
	q, span, err := ds.parseStream(path, nil)
	if err != nil || span != 2*time.Hour || q.Measure != metricdoc.MeasureEvents || q.Filters["campaign"][0] != "x" {
		t.Fatalf("round trip: %+v %v %v", q, span, err)
	}
	for _, bad := range []string{"other/1/e30", "metrics/0/e30", "metrics/99999999/e30", "metrics/60/!!", "metrics/60", "metrics/"} {
		if _, _, err := ds.parseStream(bad, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// The frontend's form: an opaque id and the model as subscription data.
	q, span, err = ds.parseStream("metrics/9f3a01bc", []byte(`{"queryType":"metrics","measure":"installs","live":true,"filters":{"campaign":["y"]}}`))
	if err != nil || span != defaultSpan || q.Filters["campaign"][0] != "y" {
		t.Fatalf("frontend path: %+v %v %v", q, span, err)
	}
	if _, _, err := ds.parseStream("metrics/9f3a01bc", []byte(`{"filters":{"$where":["1"]}}`)); err == nil {
		t.Error("operator filter accepted in subscription data")
	}
}
