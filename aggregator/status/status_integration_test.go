//go:build integration

package status

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/integration"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/golden"
)

// TestStatusIntegration runs the pipeline on a real broker and FerretDB
// (simulated pushes with losses, the pull poller backfilling them, one
// aggregator) until every event is counted, then compares the status
// report, as tables and as JSON, with testdata/. Timestamps, ages, offsets,
// sizes and the metric collections' document counts depend on the wall
// clock and are normalized; what must not vary (topics and their settings,
// zero lag on every partition, one cursor per app and report, one
// checkpoint per partition, collections and their expiry) is compared.
func TestStatusIntegration(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	broker := realkafka.ForTest(t, realkafka.Options{})
	brokers := broker.Brokers()
	store := embeddedtest.Mongo(t)

	world, err := simulate.NewWorld(5, simulate.WorldOptions{Apps: 2, Campaigns: 2})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	traffic, err := world.Traffic(simulate.TrafficOptions{Start: start, Rate: 50, DuplicateShare: 0.05, DropShare: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	deliveries := traffic.Take(400)
	pipe := integration.StartPipeline(ctx, t, world, integration.PipelineOptions{Brokers: brokers, MongoURI: store.URI(),
		PullFrom: start.Add(-time.Hour), Log: log})
	if _, rejected := pipe.Push(ctx, t, deliveries); rejected != 0 {
		t.Fatalf("%d pushes refused: the traffic has no malformed ones", rejected)
	}
	unique := world.Truth(time.UTC).Unique()
	mc, err := mongo.Connect(options.Client().ApplyURI(store.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(context.Background())

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	o := Options{
		Group: "campaignpulse-aggregate", Topics: metricdoc.DefaultTopics(), CursorTopic: "ingest_cursors",
		Brokers: brokers,
	}
	db := mc.Database("campaignpulse")
	wantCursors := len(world.AppIDs()) * len(appsflyer.Reports)
	var r Report
	var why string
	for deadline := time.Now().Add(3 * time.Minute); ; {
		r = Collect(ctx, kadm.NewClient(cl), db, o)
		if why = settled(r, wantCursors, unique); why == "" {
			break
		}
		if time.Now().After(deadline) {
			var text bytes.Buffer
			_ = r.WriteText(&text)
			t.Fatalf("status did not settle: %s\n%s", why, text.String())
		}
		time.Sleep(time.Second)
	}
	pipe.Stop()
	for _, p := range r.Partitions {
		if p.LastFlushAgeSeconds > 120 || p.Watermark.Before(start.Add(-3*time.Hour)) {
			t.Errorf("partition %d: last flush %.0f s ago, watermark %s; want a recent flush and a watermark near the traffic", p.Partition, p.LastFlushAgeSeconds, p.Watermark)
		}
	}
	for _, c := range r.Cursors {
		if c.AgeSeconds > 3600 { // pull delay + one window, with room for a loaded machine
			t.Errorf("cursor %s/%s is %.0f s behind", c.AppID, c.Report, c.AgeSeconds)
		}
	}

	normalize(&r)
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "status.txt", text.Bytes())
	golden.Check(t, "status.json", js.Bytes())
	fmt.Printf("scenario status: partitions=%d cursors=%d counted=%d lag_records=0\n", len(r.Partitions), len(r.Cursors), unique)
}

// settled says what is still missing before the report is stable ("" when
// nothing is): every event counted, no lag, every cursor written.
func settled(r Report, wantCursors int, unique int64) string {
	if len(r.Problems) > 0 {
		return fmt.Sprint(r.Problems)
	}
	var counted int64
	for _, p := range r.Partitions {
		counted += p.Counted
	}
	if counted != unique {
		return fmt.Sprintf("counted %d of %d events", counted, unique)
	}
	if !r.Lag.Committed || len(r.Lag.Partitions) == 0 {
		return "no committed offsets yet"
	}
	for _, p := range r.Lag.Partitions {
		if p.Records != 0 {
			return fmt.Sprintf("partition %d lags %d records", p.Partition, p.Records)
		}
	}
	if len(r.Cursors) != wantCursors {
		return fmt.Sprintf("%d of %d pull cursors", len(r.Cursors), wantCursors)
	}
	return ""
}

// normalize replaces what depends on the wall clock or on how the pull
// windows fell: times, ages, offsets, per-outcome counts, sizes and the
// metric collections' document counts.
func normalize(r *Report) {
	fixed := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	r.At = fixed
	for i := range r.Lag.Partitions {
		p := &r.Lag.Partitions[i]
		p.Next, p.End = 0, 0
	}
	for i := range r.Cursors {
		r.Cursors[i].Next, r.Cursors[i].AgeSeconds = fixed, 0
	}
	for i := range r.Partitions {
		p := &r.Partitions[i]
		p.Offset, p.Counted, p.Duplicates, p.TooLate, p.DeadLettered = 0, 0, 0, 0, 0
		p.Watermark, p.LastFlush, p.LastFlushAgeSeconds, p.FinalizedHour, p.FinalizedDay = fixed, fixed, 0, fixed, fixed
	}
	for i := range r.Collections {
		c := &r.Collections[i]
		c.DataBytes, c.StorageBytes, c.IndexBytes = 0, 0, 0
		if c.Name != metricdoc.CollCheckpoints && c.Name != metricdoc.CollFreshness {
			c.Documents = 0
		}
	}
}
