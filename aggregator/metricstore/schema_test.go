package metricstore

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestSchemaCommands proves the exact create and createIndexes commands sent
// for a server with time-series support, and the fallback FerretDB takes.
func TestSchemaCommands(t *testing.T) {
	s, rec, _ := openStore(t, Options{HourlyRetention: 90 * 24 * time.Hour, DailyRetention: 730 * 24 * time.Hour})

	creates := rec.named("create")
	want := map[string]string{
		metricdoc.CollHourly: `{"create": "hourly_metrics","expireAfterSeconds": {"$numberLong":"7776000"},"timeseries": {"timeField": "window_start","metaField": "meta","bucketMaxSpanSeconds": {"$numberLong":"3600"},"bucketRoundingSeconds": {"$numberLong":"3600"}}}`,
		metricdoc.CollDaily:  `{"create": "daily_metrics","expireAfterSeconds": {"$numberLong":"63072000"},"timeseries": {"timeField": "window_start","metaField": "meta","bucketMaxSpanSeconds": {"$numberLong":"86400"},"bucketRoundingSeconds": {"$numberLong":"86400"}}}`,
	}
	seen := map[string]bool{}
	for _, c := range creates {
		name := c.Lookup("create").StringValue()
		if _, ok := c.Lookup("timeseries").DocumentOK(); !ok {
			continue // the fallback's plain create
		}
		got := withoutDriverFields(t, c).String()
		if got != compact(t, want[name]) {
			t.Errorf("create %s:\n got %s\nwant %s", name, got, compact(t, want[name]))
		}
		seen[name] = true
	}
	if !seen[metricdoc.CollHourly] || !seen[metricdoc.CollDaily] {
		t.Fatalf("time-series create commands sent for %v, want both; all creates: %v", seen, creates)
	}

	var ttl, liveKeys, hourlyKeys []string
	for _, c := range rec.named("createIndexes") {
		coll := c.Lookup("createIndexes").StringValue()
		idx, _ := c.Lookup("indexes").Array().Values()
		for _, v := range idx {
			d := v.Document()
			keys := d.Lookup("key").Document().String()
			if e, ok := d.Lookup("expireAfterSeconds").AsInt64OK(); ok {
				ttl = append(ttl, coll+" "+keys+" "+strconv.FormatInt(e, 10))
			}
			switch coll {
			case metricdoc.CollLive:
				liveKeys = append(liveKeys, keys)
			case metricdoc.CollHourly:
				hourlyKeys = append(hourlyKeys, keys)
			}
		}
	}
	if len(ttl) != 1 || ttl[0] != `live_metrics {"expire_at": {"$numberInt":"1"}} 0` {
		t.Errorf("ttl index commands = %q, want one on live_metrics.expire_at with expireAfterSeconds 0", ttl)
	}
	for _, k := range []string{`{"meta.app_id": {"$numberInt":"1"},"window_start": {"$numberInt":"1"}}`, `{"meta.campaign": {"$numberInt":"1"},"window_start": {"$numberInt":"1"}}`} {
		if !contains(hourlyKeys, k) {
			t.Errorf("hourly_metrics index %s not requested; got %q", k, hourlyKeys)
		}
	}
	if !contains(liveKeys, `{"granularity": {"$numberInt":"1"},"window_start": {"$numberInt":"1"}}`) {
		t.Errorf("live_metrics (granularity, window_start) index not requested; got %q", liveKeys)
	}

	// FerretDB refuses both: regular collections with the same indexes and
	// application-side expiry.
	if caps := s.Capabilities(); caps.TimeSeries || caps.TTLIndex {
		t.Fatalf("capabilities on FerretDB = %+v, want the fallback", caps)
	}
	specs, err := s.db.ListCollectionSpecifications(t.Context(), bson.D{{Key: "name", Value: metricdoc.CollHourly}})
	if err != nil || len(specs) != 1 || specs[0].Type != "collection" {
		t.Fatalf("hourly_metrics spec = %+v, %v; want a regular collection", specs, err)
	}
	names, err := s.coll(metricdoc.CollHourly).Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1+len(finalIndexes()) {
		t.Fatalf("hourly_metrics has %d indexes, want %d", len(names), 1+len(finalIndexes()))
	}
}

// TestSchemaLogsFallbackOnceAndReopens checks that opening an existing
// database works and logs the fallback once per Open.
func TestSchemaLogsFallbackOnceAndReopens(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	mc, err := mongo.Connect(options.Client().ApplyURI(mongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(t.Context())
	for i := 0; i < 2; i++ {
		if _, err := Open(t.Context(), mc, Options{Database: "reopen"}, log); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	if n := strings.Count(buf.String(), "application-side expiry"); n != 2 {
		t.Fatalf("fallback logged %d times for two opens, want 2:\n%s", n, buf.String())
	}
}

// TestExpireDeletesOnlyOldDocuments covers the application-side expiry.
func TestExpireDeletesOnlyOldDocuments(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s, _, _ := openStore(t, Options{HourlyRetention: 48 * time.Hour, DailyRetention: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
	ctx := t.Context()
	old, recent := now.Add(-72*time.Hour), now.Add(-time.Hour)
	if _, err := s.coll(metricdoc.CollHourly).InsertMany(ctx, []any{
		metricdoc.Final{WindowStart: old}, metricdoc.Final{WindowStart: recent},
	}); err != nil {
		t.Fatal(err)
	}
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	if _, err := s.live().InsertMany(ctx, []any{
		metricdoc.Live{ID: "gone", ExpireAt: &past}, metricdoc.Live{ID: "kept", ExpireAt: &future}, metricdoc.Live{ID: "open"},
	}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Expire(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Expire = %d, %v; want 2 deleted", n, err)
	}
	for coll, want := range map[string]int64{metricdoc.CollHourly: 1, metricdoc.CollLive: 2} {
		if got, _ := s.coll(coll).CountDocuments(ctx, bson.D{}); got != want {
			t.Errorf("%s has %d documents after expiry, want %d", coll, got, want)
		}
	}
}

func withoutDriverFields(t *testing.T, c bson.Raw) bson.Raw {
	t.Helper()
	var d bson.D
	if err := bson.Unmarshal(c, &d); err != nil {
		t.Fatal(err)
	}
	var keep bson.D
	for _, e := range d {
		if e.Key == "$db" || e.Key == "lsid" || e.Key == "$clusterTime" || e.Key == "$readPreference" {
			continue
		}
		keep = append(keep, e)
	}
	b, err := bson.Marshal(keep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compact(t *testing.T, ext string) string {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(ext), true, &d); err != nil {
		t.Fatalf("bad expectation %s: %v", ext, err)
	}
	b, _ := bson.Marshal(d)
	return bson.Raw(b).String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
