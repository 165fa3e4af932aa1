package frames

import (
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/storeusage"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/golden"
)

func TestStatusGolden(t *testing.T) {
	sec := 12.5
	lag := []LagRow{{Topic: "raw_events", Partition: 0, Records: 3, Seconds: &sec}, {Topic: "raw_events", Partition: 1}}
	tests := map[string]*data.Frame{
		"lag_both":    Lag(lag, ""),
		"lag_seconds": Lag(lag, metricdoc.MeasureLagSeconds),
		"freshness":   Freshness([]FreshnessRow{{AppID: "id1", Source: "push", Seconds: 4}, {AppID: "id1", Source: "pull", Seconds: 3600}}),
		"variables":   Variables([]string{"a", "b"}),
		"storage": Storage([]storeusage.Collection{
			{Name: "live_metrics", Type: "collection", Documents: 12, DataBytes: 4096, StorageBytes: 8192, IndexBytes: 20480, Expiry: storeusage.ExpiryIndex, ExpireAfterSeconds: new(int64(0)), ExpiryField: "expire_at"},
			{Name: "hourly_metrics", Type: "timeseries", Documents: 7, DataBytes: 900, StorageBytes: 4096, IndexBytes: 4096, Expiry: storeusage.ExpiryCollection, ExpireAfterSeconds: new(int64(7776000))},
			{Name: "checkpoints", Type: "collection", Documents: 6, Expiry: storeusage.ExpiryNone},
		}),
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			golden.Check(t, "status_"+name+".json", framesJSON(t, data.Frames{f}))
		})
	}
}

// TestAlertShapes checks what Grafana alerting requires of a table: exactly
// one numeric column when a single measure is asked for.
func TestAlertShapes(t *testing.T) {
	numeric := func(f *data.Frame) (n int) {
		for _, fld := range f.Fields {
			if fld.Type().Numeric() {
				n++
			}
		}
		return n
	}
	for name, f := range map[string]*data.Frame{
		"lag_records": Lag([]LagRow{{Topic: "t"}}, metricdoc.MeasureLagRecords),
		"lag_seconds": Lag([]LagRow{{Topic: "t"}}, metricdoc.MeasureLagSeconds),
		"freshness":   Freshness([]FreshnessRow{{AppID: "a"}}),
		"table":       Metrics(Spec{Measure: metricdoc.MeasureInstalls, GroupBy: []string{"campaign"}, Format: metricdoc.FormatTable}, nil, nil)[0],
	} {
		if n := numeric(f); n != 1 {
			t.Errorf("%s: %d numeric columns, want 1", name, n)
		}
	}
}
