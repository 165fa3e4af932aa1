package status

import (
	"bytes"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/storeusage"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/golden"
)

// TestWriteText renders every kind of cell: a missing topic, a partition
// whose lag age is unknown, units of sizes and durations, and problems.
func TestWriteText(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	sec := 93.4
	r := Report{
		At: at,
		Topics: []Topic{
			{Name: "raw_events", Exists: true, Partitions: 6, Replicas: 3, RetentionMs: 86400000, CleanupPolicy: "delete"},
			{Name: "raw_events_dlq", Exists: true, Partitions: 1, Replicas: 3, RetentionMs: 5400000, CleanupPolicy: "delete"},
			{Name: "ingest_cursors"},
		},
		Lag: Lag{Group: "g", Topic: "raw_events", Partitions: []LagPartition{
			{Partition: 0, Next: 10, End: 15, Records: 5, Seconds: &sec}, {Partition: 1, Next: 3, End: 9, Records: 6},
		}},
		Cursors: []Cursor{{AppID: "id1", Report: "installs_report", Next: at.Add(-2 * time.Hour), AgeSeconds: 7260},
			{AppID: "id1", Report: "in_app_events_report", Next: at.Add(-time.Hour), AgeSeconds: 3600, PartialRecords: 15000}},
		Database: "campaignpulse",
		Partitions: []Partition{{Topic: "raw_events", Partition: 0, Offset: 10, Watermark: at.Add(-2 * time.Hour),
			LastFlush: at.Add(-3 * time.Second), LastFlushAgeSeconds: 3, Counted: 7, Duplicates: 2, TooLate: 1}},
		Collections: []storeusage.Collection{
			{Name: "hourly_metrics", Type: "timeseries", Documents: 1200, DataBytes: 5 << 20, StorageBytes: 1536, IndexBytes: 900,
				Expiry: storeusage.ExpiryCollection, ExpireAfterSeconds: new(int64(7776000)), ExpiryField: "window_start"},
			{Name: "live_metrics", Type: "collection", Documents: 3, Expiry: storeusage.ExpiryIndex, ExpireAfterSeconds: new(int64(0)), ExpiryField: "expire_at"},
		},
		Problems: []string{"pull cursors: context deadline exceeded"},
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "render.txt", out.Bytes())
}
