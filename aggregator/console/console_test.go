package console

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/golden"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

// TestCollectThroughPlugin asks the real datasource on FerretDB and kfake:
// installs written to the store come back ranked (the rest folded last),
// the group's lag counts every produced record, freshness per source, and
// the rate is taken from ingest's counter between two snapshots.
func TestCollectThroughPlugin(t *testing.T) {
	ctx := t.Context()
	now := time.Now().UTC()
	mongoSrv := embeddedtest.Mongo(t)
	kafka := embeddedtest.Kafka(t)

	mc, err := mongo.Connect(options.Client().ApplyURI(mongoSrv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	store, err := metricstore.Open(ctx, mc, metricstore.Options{Database: "cp"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var live []metricdoc.Live
	for i, c := range []struct {
		source, campaign string
		installs         int64
	}{{"Facebook Ads", "summer", 7}, {"organic", "", 9}, {"tiktok", "a", 1}, {"tiktok", "b", 2}, {"tiktok", "c", 3}} {
		for _, g := range metricdoc.Granularities {
			start := metricdoc.WindowStart(g, now, time.UTC)
			meta := metricdoc.Meta{AppID: "id1", MediaSource: c.source, Campaign: c.campaign, Platform: "ios", EventName: "install"}
			live = append(live, metricdoc.Live{
				ID: metricdoc.LiveID(g, start, meta, 0), Granularity: g, WindowStart: start, WindowEnd: metricdoc.WindowEnd(g, start, time.UTC),
				Meta: meta, Totals: metricdoc.Totals{Events: c.installs}, Offset: int64(i), UpdatedAt: now,
			})
		}
	}
	if _, err := store.WriteLive(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertFreshness(ctx, []metricdoc.Freshness{
		{ID: "id1|push", AppID: "id1", Source: metricdoc.SourcePush, LastEventAt: now.Add(-30 * time.Second), LastIngest: now, UpdatedAt: now},
		{ID: "id2|push", AppID: "id2", Source: metricdoc.SourcePush, LastEventAt: now.Add(-90 * time.Second), LastIngest: now, UpdatedAt: now},
	}); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(kafka.Brokers()...), kgo.DefaultProduceTopic(metricdoc.TopicRawEvents))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, metricdoc.TopicRawEvents); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(`{}`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	settings := plugin.InstanceSettings(plugin.Settings{MongoDatabase: "cp", KafkaBrokers: strings.Join(kafka.Brokers(), ",")},
		map[string]string{plugin.SecureMongoURI: mongoSrv.URI()})
	ds, err := plugin.NewDatasource(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Dispose)
	reg := prometheus.NewRegistry()
	published := prometheus.NewCounterVec(prometheus.CounterOpts{Name: publishedMetric}, []string{"source"})
	reg.MustRegister(published)

	clock := now
	c := &Collector{
		Query: func(ctx context.Context, model []byte, from, to time.Time) (data.Frames, error) {
			resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{
				PluginContext: backend.PluginContext{PluginID: plugin.PluginID, DataSourceInstanceSettings: &settings},
				Queries:       []backend.DataQuery{{RefID: "A", JSON: model, TimeRange: backend.TimeRange{From: from, To: to}, Interval: time.Hour, MaxDataPoints: 1000}},
			})
			if err != nil {
				return nil, err
			}
			r := resp.Responses["A"]
			return r.Frames, r.Error
		},
		Gatherer: reg, TopN: 3, Now: func() time.Time { return clock },
	}
	c.Collect(ctx)
	published.WithLabelValues(metricdoc.SourcePush).Add(250)
	clock = clock.Add(5 * time.Second)
	s := c.Collect(ctx)

	if len(s.Problems) > 0 {
		t.Fatalf("problems: %v", s.Problems)
	}
	want := []string{"organic / (none) 9", "Facebook Ads / summer 7", "tiktok / c 3", "other / other 3"}
	for _, list := range [][]Row{s.TopHour, s.TopToday} {
		var got []string
		for _, r := range list {
			got = append(got, r.Label+" "+number(r.Value))
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("top campaigns %v, want %v", got, want)
		}
	}
	if s.LagRecords != 7 || s.LagPartitions != 2 {
		t.Errorf("lag %d records on %d partitions, want 7 on 2", s.LagRecords, s.LagPartitions)
	}
	if len(s.Freshness) != 1 || s.Freshness[0].Newest < 30*time.Second || s.Freshness[0].Stalest < 90*time.Second || s.Freshness[0].Stalest > 10*time.Minute {
		t.Errorf("freshness %+v, want push: newest about 30s, stalest about 90s", s.Freshness)
	}
	if len(s.Rates) != 2 || s.Rates[1].Source != metricdoc.SourcePush || s.Rates[1].PerSecond != 50 {
		t.Errorf("rates %+v, want pull 0/s and push 50/s", s.Rates)
	}
}

// TestRender: the terminal table and the plain line of one snapshot.
func TestRender(t *testing.T) {
	s := Snapshot{
		At: time.Date(2026, 3, 29, 1, 30, 5, 0, time.UTC), Uptime: 95 * time.Second, TopN: 2,
		Rates:      []Rate{{Source: "pull", PerSecond: 0, Total: 1188}, {Source: "push", PerSecond: 201.25, Total: 12733}},
		TopHour:    []Row{{Label: "Facebook Ads / summer", Value: 12}, {Label: "organic / (none)", Value: 4}, {Label: "other / other", Value: 3, rest: true}},
		LagRecords: 3, LagSeconds: 1.6, lagSecondsKnown: true, LagPartitions: 6,
		Freshness:        []Freshness{{Source: "push", Newest: 2 * time.Second, Stalest: 4 * time.Second}, {Source: "pull", Newest: 45 * time.Second, Stalest: 50 * time.Second}},
		Links:            []Link{{Name: "metrics", URL: "http://127.0.0.1:3030/metrics"}},
		Problems:         []string{"freshness: context deadline exceeded"},
		freshnessQueried: true,
	}
	var tty, plain bytes.Buffer
	if err := (Printer{W: &tty, TTY: true}).Print(s); err != nil {
		t.Fatal(err)
	}
	if err := (Printer{W: &plain}).Print(s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tty.String(), "\x1b[H\x1b[2J") {
		t.Errorf("terminal output does not start by homing and clearing the screen: %q", tty.String()[:10])
	}
	if strings.Contains(plain.String(), "\x1b") || strings.Count(plain.String(), "\n") != 1 {
		t.Errorf("plain output is not one line without escapes: %q", plain.String())
	}
	golden.Check(t, "table.txt", []byte(strings.TrimPrefix(tty.String(), "\x1b[H\x1b[2J")))
	golden.Check(t, "line.txt", plain.Bytes())
}
