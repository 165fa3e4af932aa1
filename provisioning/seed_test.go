package provisioning_test

import (
	"context"
	"hash/fnv"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// The seeded world: a few apps, sources, campaigns and platforms with
// deterministic hourly counts, stored the way the aggregator stores them
// (finals in hourly/daily collections before the checkpoint's
// finalized-through times, live documents after), plus raw_events
// partitions with a known consumer-group lag.
var (
	seedApps      = []string{"com.acme.game", "id123456"}
	seedSources   = []string{"facebook", "googleadwords_int"}
	seedCampaigns = []string{"summer", "winter", "retarget"}
	seedPlatforms = []string{"android", "ios"}
	seedCurrency  = map[string]string{"android": "EUR", "ios": "USD"}
	seedAges      = []time.Duration{30 * time.Minute, 2 * time.Hour} // freshness per app: well inside and well past the 1 h alert
	seedHours     = 30                                               // hourly windows stored before now
	seedDays      = 7                                                // daily windows stored, including today
)

type truth struct {
	installs, events  int64
	revenueMicros     int64 // summed over currencies
	revenueUSDMicros  int64
	lagRecords        int64
	laggingPartitions int
	freshness         int // freshness documents
	installsByApp     map[string]int64
}

// counts is the deterministic activity of one combination in one hour.
func counts(app, src, camp, plat string, hour time.Time) (installs, events, revenueMicros int64) {
	h := fnv.New32a()
	h.Write([]byte(app + src + camp + plat + strconv.FormatInt(hour.Unix(), 10)))
	v := int64(h.Sum32())
	return v % 7, (v >> 4) % 11, ((v >> 8) % 5) * 1_990_000
}

type combo struct{ app, src, camp, plat string }

func combos() []combo {
	var out []combo
	for _, a := range seedApps {
		for _, s := range seedSources {
			for _, c := range seedCampaigns {
				for _, p := range seedPlatforms {
					out = append(out, combo{a, s, c, p})
				}
			}
		}
	}
	return out
}

// seedMongo writes the metric documents and returns today's totals (UTC
// day, the provisioned datasource's time zone).
func seedMongo(ctx context.Context, t *testing.T, uri, database string, now time.Time) truth {
	t.Helper()
	cl, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Disconnect(context.WithoutCancel(ctx))
	db := cl.Database(database)

	utc := time.UTC
	curHour := metricdoc.WindowStart(metricdoc.Hour, now, utc)
	today := metricdoc.WindowStart(metricdoc.Day, now, utc)
	finalizedHour := curHour.Add(-3 * time.Hour)
	tr := truth{installsByApp: map[string]int64{}}
	docs := map[string][]any{}
	add := func(coll string, d any) { docs[coll] = append(docs[coll], d) }

	hourDoc := func(g metricdoc.Granularity, ws time.Time, meta metricdoc.Meta, tot metricdoc.Totals, final bool) {
		if final {
			add(g.Collection(), metricdoc.Final{WindowStart: ws, Meta: meta, Totals: tot})
			return
		}
		add(metricdoc.CollLive, metricdoc.Live{
			ID: metricdoc.LiveID(g, ws, meta, 0), Granularity: g, WindowStart: ws, WindowEnd: metricdoc.WindowEnd(g, ws, utc),
			Meta: meta, Totals: tot, Offset: 1, UpdatedAt: now,
		})
	}
	for _, c := range combos() {
		base := metricdoc.Meta{AppID: c.app, MediaSource: c.src, Campaign: c.camp, Platform: c.plat}
		inst := base
		inst.EventName = metricdoc.InstallEventName
		purchase := base
		purchase.EventName, purchase.Currency = "af_purchase", seedCurrency[c.plat]
		rate := int64(100)
		if purchase.Currency == "EUR" {
			rate = 108
		}
		// Days: each day's document is the sum of its hours so far, so
		// hour and day granularity agree.
		for d := seedDays - 1; d >= 0; d-- {
			day := today.AddDate(0, 0, -d)
			var di, de, dr int64
			for h := day; h.Before(day.Add(24*time.Hour)) && !h.After(curHour); h = h.Add(time.Hour) {
				i, e, r := counts(c.app, c.src, c.camp, c.plat, h)
				di, de, dr = di+i, de+e, dr+r
				if h.After(curHour.Add(-time.Duration(seedHours) * time.Hour)) {
					hourDoc(metricdoc.Hour, h, inst, metricdoc.Totals{Events: i}, h.Before(finalizedHour))
					hourDoc(metricdoc.Hour, h, purchase, metricdoc.Totals{Events: e, RevenueMicros: r, RevenueUSDMicros: r * rate / 100}, h.Before(finalizedHour))
				}
			}
			hourDoc(metricdoc.Day, day, inst, metricdoc.Totals{Events: di}, day.Before(today))
			hourDoc(metricdoc.Day, day, purchase, metricdoc.Totals{Events: de, RevenueMicros: dr, RevenueUSDMicros: dr * rate / 100}, day.Before(today))
			if d == 0 {
				tr.installs += di
				tr.installsByApp[c.app] += di
				tr.events += de
				tr.revenueMicros += dr
				tr.revenueUSDMicros += dr * rate / 100
			}
		}
	}
	add(metricdoc.CollCheckpoints, metricdoc.Checkpoint{
		ID: metricdoc.CheckpointID(metricdoc.TopicRawEvents, 0), Topic: metricdoc.TopicRawEvents, Partition: 0,
		Offset: 1, Watermark: now.Add(-time.Minute), FinalizedHour: finalizedHour, FinalizedDay: today, UpdatedAt: now,
	})
	for i, app := range seedApps {
		for _, src := range []string{metricdoc.SourcePush, metricdoc.SourcePull} {
			last := now.Add(-seedAges[i])
			add(metricdoc.CollFreshness, metricdoc.Freshness{ID: app + "|" + src, AppID: app, Source: src, LastEventAt: last, LastIngest: last, UpdatedAt: now})
			tr.freshness++
		}
	}
	for coll, ds := range docs {
		if _, err := db.Collection(coll).InsertMany(ctx, ds); err != nil {
			t.Fatalf("seed %s: %v", coll, err)
		}
	}
	return tr
}

// seedKafka fills raw_events and commits the group's offsets so that
// partition 0 lags by 6 records that are 10 minutes old and the others by 0.
func seedKafka(ctx context.Context, t *testing.T, brokers []string, group string, now time.Time, tr *truth) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, metricdoc.TopicRawEvents); err != nil {
		t.Fatal(err)
	}
	produced := map[int32]int64{0: 10, 1: 5, 2: 0}
	committed := map[int32]int64{0: 4, 1: 5}
	for p, n := range produced {
		for i := range n {
			r := &kgo.Record{Topic: metricdoc.TopicRawEvents, Partition: p, Value: []byte(`{}`), Timestamp: now.Add(-10 * time.Minute).Add(time.Duration(i) * time.Second)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	var offs kadm.Offsets
	for p, at := range committed {
		offs.AddOffset(metricdoc.TopicRawEvents, p, at, -1)
	}
	resp, err := adm.CommitOffsets(ctx, group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
	for p, n := range produced {
		if lag := n - committed[p]; lag > 0 {
			tr.lagRecords += lag
			tr.laggingPartitions++
		}
	}
}
