package frames

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/golden"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
)

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func hours(n int) []time.Time {
	w := make([]time.Time, n)
	for i := range w {
		w[i] = t0.Add(time.Duration(i) * time.Hour)
	}
	return w
}

func row(h int, v int64, group ...string) pipeline.Row {
	return pipeline.Row{Window: t0.Add(time.Duration(h) * time.Hour), Group: group, Value: v}
}

func framesJSON(t *testing.T, fs data.Frames) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&out, b, "", " "); err != nil {
			t.Fatal(err)
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func TestMetricsGolden(t *testing.T) {
	// Rows as two pipelines return them: hour 1 of campaign a appears in
	// both the final and the live part and must add up.
	byCampaign := []pipeline.Row{
		row(0, 5, "a"), row(1, 2, "a"), row(1, 1, "a"), row(2, 7, "b"),
		row(0, 1, "c"), row(2, 1, "d"), row(9, 100, "a"), // hour 9 is outside the windows
	}
	tests := []struct {
		name string
		spec Spec
		rows []pipeline.Row
	}{
		{"wide_top2_other", Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{metricdoc.DimCampaign}, TopN: 2}, byCampaign},
		{"wide_cumulative", Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{metricdoc.DimCampaign}, Cumulative: true}, byCampaign},
		{"wide_no_rows_is_zero", Spec{Measure: metricdoc.MeasureEvents}, nil},
		{"long_two_dims", Spec{Measure: metricdoc.MeasureEvents, GroupBy: []string{metricdoc.DimMediaSource, metricdoc.DimEventName}, Format: metricdoc.FormatTimeSeriesLong},
			[]pipeline.Row{row(0, 3, "fb", "purchase"), row(2, 4, "google", "login"), row(2, 1, "fb", "purchase")}},
		{"revenue_wide_units", Spec{Measure: metricdoc.MeasureRevenue, GroupBy: []string{metricdoc.DimCurrency}},
			[]pipeline.Row{row(0, 1_500_000, "USD"), row(1, 250_000, "EUR"), row(2, 990_000, "XYZ")}},
		{"table_daily_summary", Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{metricdoc.DimCampaign}, Format: metricdoc.FormatTable, TopN: 3},
			[]pipeline.Row{{Group: []string{"a"}, Value: 10}, {Group: []string{"b"}, Value: 30}, {Group: []string{"c"}, Value: 20}, {Group: []string{"d"}, Value: 1}, {Group: []string{"e"}, Value: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.RefID = "A"
			fs := Metrics(tt.spec, hours(3), tt.rows)
			golden.Check(t, "metrics_"+tt.name+".json", framesJSON(t, fs))
		})
	}
}

func TestMetricsTotalsAreExact(t *testing.T) {
	var rows []pipeline.Row
	var want int64
	for h := range 24 {
		for c := range 50 {
			v := int64(h*c + 1)
			rows = append(rows, row(h, v, fmt.Sprint("c", c)))
			want += v
		}
	}
	fs := Metrics(Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{metricdoc.DimCampaign}, TopN: 7}, hours(24), rows)
	var got int64
	f := fs[0]
	if len(f.Fields) != 1+7+1 {
		t.Fatalf("fields = %d, want time + 7 + other", len(f.Fields))
	}
	for _, fld := range f.Fields[1:] {
		for i := range fld.Len() {
			got += fld.At(i).(int64)
		}
	}
	if got != want {
		t.Fatalf("sum over the frame = %d, want %d", got, want)
	}
	if f.Fields[1].Labels[metricdoc.DimCampaign] != "c49" || f.Fields[8].Labels[metricdoc.DimCampaign] != Other {
		t.Fatalf("series order: first %v, last %v", f.Fields[1].Labels, f.Fields[8].Labels)
	}
}
