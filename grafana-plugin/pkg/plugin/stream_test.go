package plugin

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/seed"
)

// frameSender hands the stream's frames to the test.
type frameSender chan *data.Frame

func (s frameSender) Send(p *backend.StreamPacket) error {
	var f data.Frame
	if err := json.Unmarshal(p.Data, &f); err != nil {
		return err
	}
	s <- &f
	return nil
}

// TestStreamOpensWithQueryDataAnswer: 30 days of windows in MongoDB (the
// older ones finalized into the time-series collections, some appended
// twice, the rest live, stale finalized copies left in live_metrics with
// other totals), nothing on
// aggregated_metrics. A live stream's first frame equals QueryData's answer
// for the same span, for spans from an hour to 30 days; then an update on
// aggregated_metrics moves it.
func TestStreamOpensWithQueryDataAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB and kfake")
	}
	ctx := context.Background()
	m := embeddedtest.Mongo(t)
	k := embeddedtest.Kafka(t)
	ds, err := NewDatasource(ctx, InstanceSettings(Settings{KafkaBrokers: k.Brokers()[0], MongoMaxTimeMS: 120000}, map[string]string{SecureMongoURI: m.URI()}))
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Dispose()
	now := time.Now().UTC().Truncate(time.Second)
	ds.now = func() time.Time { return now }

	thisHour := now.Truncate(time.Hour)
	campaigns := []string{"alpha", "beta", "gamma"}
	w := seed.World{Now: now, Hours: 31 * 24, Days: 32, OpenHours: []int{41, 41}, FinalLiveHours: 48, DuplicateEvery: 5,
		Activity: func(m metricdoc.Meta, part int32, hour time.Time) metricdoc.Totals {
			h, i := int(thisHour.Sub(hour)/time.Hour), slices.Index(campaigns, m.Campaign)
			if (h+i)%3 == 0 || (h%4 == 0) != (m.Currency != "") {
				return metricdoc.Totals{} // windows without events show as zero; purchases every fourth hour
			}
			t := metricdoc.Totals{Events: int64(1 + (h*7+i*3+int(part))%11)}
			if m.Currency != "" {
				t.RevenueMicros = int64(h * 1000)
			}
			return t
		}}
	for _, c := range campaigns {
		m := metricdoc.Meta{AppID: "app", MediaSource: "src", Campaign: c, Platform: "ios", EventName: metricdoc.InstallEventName}
		w.Metas = append(w.Metas, m)
		m.EventName, m.Currency = "purchase", "USD"
		w.Metas = append(w.Metas, m)
	}
	if _, err := seed.Write(ctx, ds.db, w); err != nil {
		t.Fatal(err)
	}
	// The finalized copies still in live_metrics get other totals: QueryData
	// skips them, so must the stream.
	if _, err := ds.db.Collection(metricdoc.CollLive).UpdateMany(ctx, bson.D{{Key: metricdoc.FieldFinal, Value: true}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: metricdoc.FieldEvents, Value: 100}}}}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		query string
		span  time.Duration
	}{
		{"installs by campaign, 30 days hourly", `{"measure":"installs","granularity":"hour","groupBy":["campaign"]}`, 30 * 24 * time.Hour},
		{"events, 1 hour", `{"measure":"events","granularity":"hour"}`, time.Hour},
		{"installs, 7 days hourly, one campaign", `{"measure":"installs","granularity":"hour","filters":{"campaign":["beta"]}}`, 7 * 24 * time.Hour},
		{"revenue by campaign, 30 days hourly", `{"measure":"revenue","granularity":"hour","groupBy":["campaign"]}`, 30 * 24 * time.Hour},
		{"installs, 30 days daily", `{"measure":"installs","granularity":"day","groupBy":["campaign"]}`, 30 * 24 * time.Hour},
		{"top campaigns table, 30 days", `{"measure":"installs","granularity":"hour","groupBy":["campaign"],"format":"table","topN":2}`, 30 * 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := queryFrame(t, ds, tc.query, now.Add(-tc.span), now)
			frames, stop := runStream(t, ds, tc.query, tc.span)
			defer stop()
			got := nextFrame(t, frames)
			sameFrame(t, got, want)
			if total(got) == 0 {
				t.Fatal("the stream's first frame is empty; the test proves nothing")
			}
		})
	}

	t.Run("then follows aggregated_metrics", func(t *testing.T) {
		query := `{"measure":"installs","granularity":"hour","groupBy":["campaign"]}`
		frames, stop := runStream(t, ds, query, 24*time.Hour)
		defer stop()
		first := total(nextFrame(t, frames))
		var d metricdoc.Live
		if err := ds.db.Collection(metricdoc.CollLive).FindOne(ctx, map[string]any{"window_start": thisHour.Add(-time.Hour), "meta.event_name": metricdoc.InstallEventName}).Decode(&d); err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		produce := func(events, offset int64) {
			u := metricdoc.Update{Granularity: metricdoc.Hour, WindowStart: d.WindowStart, WindowEnd: d.WindowEnd, Meta: d.Meta,
				Partition: d.Partition, Totals: metricdoc.Totals{Events: events}, Offset: offset, UpdatedAt: now}
			v, _ := json.Marshal(&u)
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: metricdoc.TopicAggregated, Key: []byte(u.Key()), Value: v}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		produce(d.Events-1, d.Offset-1) // older than the snapshot: no change
		produce(d.Events+5, d.Offset+1)
		for {
			got := total(nextFrame(t, frames))
			if got == first+5 {
				return
			}
			if got != first {
				t.Fatalf("stream total %d, want %d then %d", got, first, first+5)
			}
		}
	})
}

func queryFrame(t *testing.T, ds *Datasource, query string, from, to time.Time) *data.Frame {
	t.Helper()
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", JSON: json.RawMessage(query), TimeRange: backend.TimeRange{From: from, To: to}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Responses["A"]
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	return r.Frames[0]
}

func runStream(t *testing.T, ds *Datasource, query string, span time.Duration) (frameSender, func()) {
	t.Helper()
	var q metricdoc.Query
	if err := json.Unmarshal([]byte(query), &q); err != nil {
		t.Fatal(err)
	}
	p, err := StreamPath(q, span)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	frames := make(frameSender, 100)
	done := make(chan error, 1)
	go func() { done <- ds.RunStream(ctx, &backend.RunStreamRequest{Path: p}, backend.NewStreamSender(frames)) }()
	return frames, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunStream: %v", err)
		}
	}
}

func nextFrame(t *testing.T, frames frameSender) *data.Frame {
	t.Helper()
	select {
	case f := <-frames:
		return f
	case <-time.After(30 * time.Second):
		t.Fatal("no stream frame within 30s")
		return nil
	}
}

// sameFrame compares names, labels and values of every field.
func sameFrame(t *testing.T, got, want *data.Frame) {
	t.Helper()
	if len(got.Fields) != len(want.Fields) {
		t.Fatalf("stream frame has %d fields, QueryData %d", len(got.Fields), len(want.Fields))
	}
	for i := range want.Fields {
		g, w := got.Fields[i], want.Fields[i]
		if g.Name != w.Name || !reflect.DeepEqual(g.Labels, w.Labels) || g.Len() != w.Len() {
			t.Fatalf("field %d: stream %q %v (%d rows), QueryData %q %v (%d rows)", i, g.Name, g.Labels, g.Len(), w.Name, w.Labels, w.Len())
		}
		for r := range w.Len() {
			gv, wv := g.At(r), w.At(r)
			if gt, ok := gv.(time.Time); ok {
				if !gt.Equal(wv.(time.Time)) {
					t.Fatalf("field %s row %d: stream %v, QueryData %v", w.Name, r, gv, wv)
				}
				continue
			}
			if !reflect.DeepEqual(gv, wv) {
				t.Fatalf("field %s row %d: stream %v, QueryData %v", w.Name, r, gv, wv)
			}
		}
	}
}

// total sums the values of a frame (revenue in micros).
func total(f *data.Frame) int64 {
	var n int64
	for _, fl := range f.Fields {
		for r := range fl.Len() {
			switch v := fl.At(r).(type) {
			case int64:
				n += v
			case float64:
				n += int64(v * 1e6)
			}
		}
	}
	return n
}
