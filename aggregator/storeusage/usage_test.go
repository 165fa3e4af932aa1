package storeusage

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
)

// TestReadFerretDB reads a store prepared by metricstore.Open on FerretDB:
// every collection, real counts and sizes, and the aggregator's own expiry
// for the metric collections (FerretDB has no time-series or TTL indexes).
func TestReadFerretDB(t *testing.T) {
	ctx := t.Context()
	srv := embeddedtest.Mongo(t)
	var mu sync.Mutex
	var sent []string
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		mu.Lock()
		sent = append(sent, e.CommandName)
		mu.Unlock()
	}}
	mc, err := mongo.Connect(options.Client().ApplyURI(srv.URI()).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	if _, err := metricstore.Open(ctx, mc, metricstore.Options{Database: "cp"}, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	db := mc.Database("cp")
	docs := make([]any, 30)
	for i := range docs {
		docs[i] = bson.D{{Key: "window_start", Value: time.Unix(int64(i)*3600, 0)}, {Key: "installs", Value: i}}
	}
	if _, err := db.Collection(metricdoc.CollHourly).InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(metricdoc.CollFreshness).InsertOne(ctx, bson.D{{Key: "_id", Value: "app|push"}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	sent = nil
	mu.Unlock()

	got, err := Read(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(Collections) {
		t.Fatalf("got %d collections, want %d: %+v", len(got), len(Collections), got)
	}
	wantDocs := map[string]int64{metricdoc.CollHourly: 30, metricdoc.CollFreshness: 1}
	for i, c := range got {
		if c.Name != Collections[i] {
			t.Errorf("collection %d is %s, want %s", i, c.Name, Collections[i])
		}
		if c.Documents != wantDocs[c.Name] {
			t.Errorf("%s: %d documents, want %d", c.Name, c.Documents, wantDocs[c.Name])
		}
		if c.Type != "collection" || c.ExpireAfterSeconds != nil {
			t.Errorf("%s: type %q expireAfterSeconds %v, want a regular collection without server expiry", c.Name, c.Type, c.ExpireAfterSeconds)
		}
		want := ExpiryNone
		if c.Name == metricdoc.CollLive || c.Name == metricdoc.CollHourly || c.Name == metricdoc.CollDaily {
			want = ExpiryApplication
		}
		if c.Expiry != want {
			t.Errorf("%s: expiry %s, want %s", c.Name, c.Expiry, want)
		}
		if c.IndexBytes <= 0 || c.StorageBytes <= 0 {
			t.Errorf("%s: index %d B, storage %d B; want both > 0", c.Name, c.IndexBytes, c.StorageBytes)
		}
	}
	if hourly, daily := got[1], got[2]; hourly.DataBytes <= daily.DataBytes {
		t.Errorf("hourly_metrics with 30 documents holds %d B, not more than the empty daily_metrics (%d B)", hourly.DataBytes, daily.DataBytes)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, name := range sent {
		switch name {
		case "listCollections", "listIndexes", "count", "aggregate":
		default:
			t.Errorf("sent %q; only read-only listCollections, listIndexes, count and aggregate($collStats) are expected", name)
		}
	}
}

// TestReadEmptyDatabase: nothing created yet is not an error.
func TestReadEmptyDatabase(t *testing.T) {
	ctx := t.Context()
	srv := embeddedtest.Mongo(t)
	mc, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	got, err := Read(ctx, mc.Database("nothing_here"))
	if err != nil || len(got) != 0 {
		t.Fatalf("Read of an empty database = %+v, %v; want nothing, no error", got, err)
	}
}

// TestTimeSeriesOptions decodes what MongoDB 8.0 lists for the collections
// metricstore creates there (a shape FerretDB cannot produce).
func TestTimeSeriesOptions(t *testing.T) {
	opts, err := bson.Marshal(bson.D{
		{Key: "timeseries", Value: bson.D{
			{Key: "timeField", Value: "window_start"}, {Key: "metaField", Value: "meta"},
			{Key: "bucketRoundingSeconds", Value: int32(3600)}, {Key: "bucketMaxSpanSeconds", Value: int32(3600)},
		}},
		{Key: "expireAfterSeconds", Value: int64(7776000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := Collection{Name: metricdoc.CollHourly, Expiry: ExpiryNone}
	if err := collectionExpiry(&c, opts); err != nil {
		t.Fatal(err)
	}
	if c.Expiry != ExpiryCollection || c.ExpireAfterSeconds == nil || *c.ExpireAfterSeconds != 7776000 || c.ExpiryField != "window_start" {
		t.Fatalf("got %+v (expireAfterSeconds %v), want collection expiry after 7776000 s on window_start", c, c.ExpireAfterSeconds)
	}
}

// TestDecodeStats: MongoDB sends sizes as int32, int64 or double depending
// on their magnitude; a string is an error, an absent field zero.
func TestDecodeStats(t *testing.T) {
	raw, _ := bson.Marshal(bson.D{{Key: "size", Value: int32(12)}, {Key: "storageSize", Value: 4096.0}, {Key: "totalIndexSize", Value: int64(1 << 40)}})
	s, err := decodeStats(raw)
	if err != nil || s != (stats{Size: 12, StorageSize: 4096, TotalIndexSize: 1 << 40}) {
		t.Fatalf("decodeStats = %+v, %v", s, err)
	}
	raw, _ = bson.Marshal(bson.D{{Key: "size", Value: "12"}})
	if _, err := decodeStats(raw); err == nil {
		t.Fatal("a string size decoded without error")
	}
	raw, _ = bson.Marshal(bson.D{})
	if s, err := decodeStats(raw); err != nil || s != (stats{}) {
		t.Fatalf("empty storageStats = %+v, %v", s, err)
	}
}
