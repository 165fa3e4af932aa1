//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/chaos"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

const database = "campaignpulse_e2e"

// TestEndToEnd pushes simulated AppsFlyer traffic (duplicates, late and
// malformed events, 5% of pushes lost) through the real receiver, lets the
// real poller backfill the lost ones from the simulated Pull API, runs two
// aggregators in one consumer group on a real broker, and then requires
// every hour and day window in MongoDB, and the plugin's answer, to equal
// the simulator's ground truth.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 9*time.Minute)
	defer cancel()
	log := testLogger(t)

	broker := realkafka.ForTest(t, realkafka.Options{})
	brokers := broker.Brokers()
	store := embeddedtest.Mongo(t)

	// The simulated AppsFlyer account. Its traffic starts two hours ago so
	// the poller can pull every window right away.
	world, err := simulate.NewWorld(11, simulate.WorldOptions{Apps: 2, Campaigns: 3})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	traffic, err := world.Traffic(simulate.TrafficOptions{
		Start: start, Rate: 100, DuplicateShare: 0.05, LateShare: 0.02, MalformedShare: 0.01, DropShare: 0.05,
		MaxLateness: 90 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	deliveries := traffic.Take(3000)

	// Ingest pulls from before the first event; two aggregators share the group.
	pipe := StartPipeline(ctx, t, world, PipelineOptions{Brokers: brokers, MongoURI: store.URI(), Database: database,
		Aggregators: 2, PullFrom: start.Add(-3 * time.Hour), Log: log})
	// Push everything; lost pushes are only recovered by the poller.
	accepted, rejected := pipe.Push(ctx, t, deliveries)
	truth := world.Truth(time.UTC)

	// Wait until MongoDB holds exactly the truth and the checkpoints cover
	// every committed record of raw_events: the windows can match the truth
	// while the last duplicates are still being processed, and the poller
	// may still append copies. Give up with a diff after the deadline.
	mc, err := mongo.Connect(options.Client().ApplyURI(store.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(context.Background())
	db := mc.Database(database)
	adm := newAdmin(t, brokers)
	var (
		stored     *chaos.Stored
		mismatches []chaos.Mismatch
		produced   int64
		settled    bool
	)
	deadline := time.Now().Add(5 * time.Minute)
	for !settled && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if stored, err = chaos.ReadStored(ctx, db); err != nil {
			continue
		}
		if mismatches = chaos.Compare(truth, stored); len(mismatches) > 0 || !coversEnd(ctx, adm, stored) {
			continue
		}
		produced = committedRecords(t, ctx, brokers)
		if stored, err = chaos.ReadStored(ctx, db); err != nil {
			continue
		}
		mismatches = chaos.Compare(truth, stored)
		settled = len(mismatches) == 0 && coversEnd(ctx, adm, stored) && stored.Accounting.Outcomes() == produced
	}
	if stored == nil {
		t.Fatalf("read stored windows: %v", err)
	}
	if !settled {
		produced = committedRecords(t, ctx, brokers)
	}
	a := stored.Accounting
	fmt.Printf("scenario e2e: produced=%d counted=%d mismatched_windows=%d\n", produced, a.Counted, len(mismatches))
	for i, m := range mismatches {
		if i == 5 {
			break
		}
		t.Errorf("window %s %s %+v: want %+v, got %+v", m.Granularity, m.Key.Start, m.Key.Meta, m.Want, m.Got)
	}
	if len(mismatches) > 0 {
		t.Fatalf("%d windows differ from the ground truth (pushes accepted=%d rejected=%d)", len(mismatches), accepted, rejected)
	}
	// Offsets also cover transaction markers and aborted records of the pull
	// path (counted as skipped), so the identity is checked against the
	// records a read_committed reader sees.
	if !a.Holds() {
		t.Fatalf("checkpoint offsets %d != outcomes %d + skipped %d (%+v)", a.Processed, a.Outcomes(), a.Skipped, a)
	}
	if outcomes := a.Outcomes(); outcomes != produced {
		t.Fatalf("accounting identity broken: %d records on raw_events, %d outcomes (%+v)", produced, outcomes, a)
	}
	if want := int64(truth.Unique()); a.Counted != want {
		t.Fatalf("counted %d events, the world holds %d", a.Counted, want)
	}

	// The plugin's datasource answers the marketer's question with the same total.
	assertPluginInstalls(t, ctx, store.URI(), brokers, truth, start)
}

func assertPluginInstalls(t *testing.T, ctx context.Context, uri string, brokers []string, truth *simulate.Truth, start time.Time) {
	t.Helper()
	ds, err := plugin.NewDatasource(ctx, plugin.InstanceSettings(
		plugin.Settings{MongoDatabase: database, KafkaBrokers: strings.Join(brokers, ",")},
		map[string]string{plugin.SecureMongoURI: uri}))
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Dispose()
	q, _ := json.Marshal(metricdoc.Query{QueryType: metricdoc.QueryMetrics, Measure: metricdoc.MeasureInstalls,
		Granularity: string(metricdoc.Day), Format: metricdoc.FormatTable, GroupBy: []string{metricdoc.DimApp}})
	s := plugin.InstanceSettings(plugin.Settings{}, nil)
	resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{DataSourceInstanceSettings: &s},
		Headers:       map[string]string{backend.FromAlertHeaderName: "true"},
		Queries: []backend.DataQuery{{RefID: "A", JSON: q, Interval: time.Hour, MaxDataPoints: 1000,
			TimeRange: backend.TimeRange{From: start.Add(-48 * time.Hour), To: time.Now().Add(time.Hour)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Responses["A"]
	if r.Error != nil {
		t.Fatalf("plugin query: %v", r.Error)
	}
	var want int64
	for k, tot := range truth.Windows(metricdoc.Day) {
		if k.Meta.EventName == metricdoc.InstallEventName {
			want += tot.Events
		}
	}
	var got float64
	for _, f := range r.Frames {
		n, _ := f.RowLen()
		for _, fld := range f.Fields {
			for i := 0; i < n; i++ {
				switch v := fld.At(i).(type) {
				case float64:
					got += v
				case *float64:
					if v != nil {
						got += *v
					}
				case int64:
					got += float64(v)
				}
			}
		}
	}
	if int64(got) != want {
		t.Fatalf("plugin says %v installs, the truth is %d", got, want)
	}
}

func newAdmin(t *testing.T, brokers []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// coversEnd reports whether every partition's checkpoint reached the last
// stable offset of raw_events (what a read_committed consumer can read).
func coversEnd(ctx context.Context, adm *kadm.Client, s *chaos.Stored) bool {
	end, err := adm.ListCommittedOffsets(ctx, metricdoc.TopicRawEvents)
	if err != nil || end.Error() != nil {
		return false
	}
	ok := true
	end.Each(func(o kadm.ListedOffset) {
		if s.Offsets[o.Partition] < o.Offset {
			ok = false
		}
	})
	return ok
}

// committedRecords counts the records of raw_events a read_committed
// consumer sees (what the aggregators had to account for): it reads from
// the start until three seconds pass without a new record.
func committedRecords(t *testing.T, ctx context.Context, brokers []string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(metricdoc.TopicRawEvents),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var n int64
	for {
		pollCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		fs := cl.PollFetches(pollCtx)
		cancel()
		got := fs.NumRecords()
		n += int64(got)
		if got == 0 {
			if ctx.Err() != nil {
				t.Fatalf("count raw_events: %v", ctx.Err())
			}
			return n
		}
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() && os.Getenv("CAMPAIGNPULSE_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
