package follow

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// TestTotalsAndFreshness feeds partial totals the way the aggregator writes
// them (per partition, repeated, out of order) and whole totals the way the
// peers do, and checks counting, exactness against a truth and freshness.
func TestTotalsAndFreshness(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, metricdoc.TopicAggregated))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := Start(ctx, c.ListenAddrs(), metricdoc.TopicAggregated, map[int32]int64{0: 0, 1: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	hour := time.Date(2026, 11, 2, 5, 0, 0, 0, time.UTC)
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	meta := metricdoc.Meta{AppID: "id1", MediaSource: "organic", Platform: "ios", EventName: "install"}
	key := simulate.WindowKey{Start: hour, Meta: meta}
	appended := time.Now()
	f.SampleFrom(appended.Add(-time.Second))
	for i := 0; i < 5; i++ {
		f.Appended(key, appended)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(metricdoc.TopicAggregated))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	send := func(g metricdoc.Granularity, start time.Time, part int32, events int64) {
		t.Helper()
		v, _ := json.Marshal(map[string]any{"granularity": g, "window_start": start, "meta": meta, "partition": part, "events": events})
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	send(metricdoc.Hour, hour, 0, 2)
	send(metricdoc.Hour, hour, 1, 1)
	send(metricdoc.Hour, hour, 0, 1) // older partial: ignored
	send(metricdoc.Hour, hour, 0, 3)
	send(metricdoc.Day, day, -1, 5)
	send(metricdoc.Hour, hour, 1, 2)
	if _, err := f.WaitCounted(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if h, d := f.Counted(); h != 5 || d != 5 {
		t.Fatalf("counted hour=%d day=%d, want 5 and 5", h, d)
	}
	if pe := f.PartitionEvents(); pe[0] != 3 || pe[1] != 2 || len(pe) != 2 {
		t.Fatalf("events by partition %v, want 0:3 1:2 (newest partials, hour updates only)", pe)
	}
	_, p99, _, n := f.Freshness(time.Now())
	if n != 5 || p99 <= 0 || p99 > 30*time.Second {
		t.Fatalf("freshness: %d samples, p99 %s; want 5 samples within the test", n, p99)
	}

	truth := simulate.NewTruth(time.UTC)
	if got := f.Mismatches(truth); got != 2 {
		t.Fatalf("against an empty truth: %d mismatched windows, want 2 (one hour, one day)", got)
	}
}
