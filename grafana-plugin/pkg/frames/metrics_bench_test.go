package frames

import (
	"strconv"
	"testing"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
)

// BenchmarkMetricsWide30dHourly200Campaigns shapes 30 days of hourly rows
// for 200 campaigns (144,000 pipeline rows) into one wide frame.
func BenchmarkMetricsWide30dHourly200Campaigns(b *testing.B) {
	benchMetrics(b, Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{metricdoc.DimCampaign}})
}

// BenchmarkMetricsLong30dHourly200Campaigns is the same data as a long frame.
func BenchmarkMetricsLong30dHourly200Campaigns(b *testing.B) {
	benchMetrics(b, Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{metricdoc.DimCampaign}, Format: metricdoc.FormatTimeSeriesLong})
}

// BenchmarkMetricsTop10Cumulative30dHourly200Campaigns folds 190 campaigns
// into "other" and turns the series into running sums.
func BenchmarkMetricsTop10Cumulative30dHourly200Campaigns(b *testing.B) {
	benchMetrics(b, Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{metricdoc.DimCampaign}, TopN: 10, Cumulative: true})
}

func benchMetrics(b *testing.B, spec Spec) {
	windows := hours(30 * 24)
	campaigns := make([]string, 200)
	for i := range campaigns {
		campaigns[i] = "campaign-" + strconv.Itoa(i)
	}
	rows := make([]pipeline.Row, 0, len(windows)*len(campaigns))
	for i, w := range windows {
		for c, name := range campaigns {
			rows = append(rows, pipeline.Row{Window: w, Group: []string{name}, Value: int64(i%24*c + 1)})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fs := Metrics(spec, windows, rows)
		if len(fs) != 1 || fs[0].Rows() == 0 {
			b.Fatal("empty frame")
		}
	}
}
