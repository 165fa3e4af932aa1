package plugin

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
)

// TestAggregationsAreBounded runs an in-process datasource against FerretDB
// and records the commands it sends: every aggregation carries maxTimeMS,
// starts with $match and uses only $match, $group and $sort.
func TestAggregationsAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	ctx := context.Background()
	m := embeddedtest.Mongo(t)

	var mu sync.Mutex
	var cmds []bson.Raw
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "aggregate" {
			mu.Lock()
			cmds = append(cmds, append(bson.Raw(nil), e.Command...))
			mu.Unlock()
		}
	}}
	ds, err := NewDatasource(ctx, InstanceSettings(Settings{KafkaBrokers: "127.0.0.1:1", MongoMaxTimeMS: 3000}, map[string]string{SecureMongoURI: m.URI()}))
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Dispose()
	mc, err := mongo.Connect(options.Client().ApplyURI(m.URI()).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	_ = ds.mongo.Disconnect(ctx)
	ds.mongo, ds.db = mc, mc.Database(ds.cfg.MongoDatabase)

	w := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	meta := metricdoc.Meta{AppID: "a", Campaign: "c", EventName: metricdoc.InstallEventName}
	live := metricdoc.Live{ID: "x", Granularity: metricdoc.Hour, WindowStart: w, Meta: meta, Totals: metricdoc.Totals{Events: 4}}
	fin := metricdoc.Final{WindowStart: w.Add(-time.Hour), Meta: meta, Totals: metricdoc.Totals{Events: 3}}
	cp := metricdoc.Checkpoint{ID: "raw_events/0", Topic: metricdoc.TopicRawEvents, FinalizedHour: w}
	for coll, doc := range map[string]any{metricdoc.CollLive: live, metricdoc.CollHourly: fin, metricdoc.CollCheckpoints: cp} {
		if _, err := ds.db.Collection(coll).InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	queries := []string{
		`{"queryType":"metrics","measure":"installs","granularity":"hour","format":"table"}`,
		`{"queryType":"variables","dimension":"campaign"}`,
	}
	req := &backend.QueryDataRequest{}
	for i, q := range queries {
		req.Queries = append(req.Queries, backend.DataQuery{RefID: string(rune('A' + i)), JSON: json.RawMessage(q),
			TimeRange: backend.TimeRange{From: w.Add(-2 * time.Hour), To: w.Add(time.Hour)}})
	}
	resp, err := ds.QueryData(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for ref, r := range resp.Responses {
		if r.Error != nil {
			t.Fatalf("%s: %v", ref, r.Error)
		}
	}
	if got := resp.Responses["A"].Frames[0].Fields[0].At(0).(int64); got != 7 {
		t.Errorf("total = %d, want 3 final + 4 live", got)
	}
	if len(cmds) != 4 {
		t.Fatalf("aggregate commands = %d, want 4 (two parts, two collections for variables)", len(cmds))
	}
	for _, c := range cmds {
		if ms, ok := c.Lookup("maxTimeMS").AsInt64OK(); !ok || ms <= 0 || ms > 3000 {
			t.Errorf("aggregate without a maxTimeMS bound: %s", c)
		}
		stages, _ := c.Lookup("pipeline").Array().Values()
		for i, st := range stages {
			name := st.Document().Index(0).Key()
			if (i == 0 && name != "$match") || (name != "$match" && name != "$group" && name != "$sort") {
				t.Errorf("stage %d is %s in %s", i, name, c)
			}
		}
	}
}
