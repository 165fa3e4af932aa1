package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/seed"
)

const (
	database      = metricdoc.DefaultDatabase
	consumerGroup = metricdoc.DefaultConsumerGroup
	hoursSeeded   = 6
)

// world is the seeded store and backlog with their truth, plus the
// clients a test needs to change them.
type world struct {
	*seed.Truth
	promo string // campaign named after today's date, for the macro test
	lag   seed.Lag
	kafka *kgo.Client
	mongo *mongo.Client
}

var metas = []metricdoc.Meta{
	{AppID: "id1", MediaSource: "fb", Campaign: "alpha", Platform: "ios", EventName: metricdoc.InstallEventName},
	{AppID: "id1", MediaSource: "google", Campaign: "beta", Platform: "android", EventName: metricdoc.InstallEventName},
	{AppID: "id1", MediaSource: "google", Campaign: "gamma", Platform: "android", EventName: metricdoc.InstallEventName},
	{AppID: "id2", MediaSource: "fb", Campaign: "", Platform: "ios", EventName: metricdoc.InstallEventName}, // campaign set to promo
	{AppID: "id1", MediaSource: "fb", Campaign: "alpha", Platform: "ios", EventName: "purchase", Currency: "USD"},
	{AppID: "id2", MediaSource: "google", Campaign: "beta", Platform: "android", EventName: "purchase", Currency: "EUR"},
	{AppID: "id2", MediaSource: "google", Campaign: "beta", Platform: "android", EventName: "login"},
}

// description is the contract's world: six hours of two partitions, where
// partition 0 finalized one hour further than partition 1 (the reader must
// use the minimum, and partition 0's hour before that is in both places),
// finalized copies left in live_metrics for the last four hours and for
// yesterday, every third final document appended twice, and three days.
func description(now time.Time, promo string) seed.World {
	ms := append([]metricdoc.Meta(nil), metas...)
	ms[3].Campaign = promo
	weight := map[metricdoc.Meta]int64{}
	for k, m := range ms {
		weight[m] = int64(k + 1)
	}
	return seed.World{
		Now: now, Metas: ms, Hours: hoursSeeded, Days: 3,
		OpenHours: []int{2, 3}, FinalLiveHours: 4, FinalLiveDays: 1, DuplicateEvery: 3,
		Activity: func(m metricdoc.Meta, p int32, hour time.Time) metricdoc.Totals {
			t := metricdoc.Totals{Events: int64(hour.Hour()+1) * int64(p+1) * weight[m]}
			switch m.Currency {
			case "USD":
				t.RevenueMicros, t.RevenueUSDMicros = t.Events*1_990_000, t.Events*1_990_000
			case "EUR":
				t.RevenueMicros, t.RevenueUSDMicros = t.Events*1_990_000, t.Events*2_150_000
			}
			return t
		},
		Freshness: []seed.Fresh{
			{AppID: "id1", Source: metricdoc.SourcePush, Age: 30 * time.Second},
			{AppID: "id1", Source: metricdoc.SourcePull, Age: time.Hour},
			{AppID: "id2", Source: metricdoc.SourcePush, Age: 10 * time.Minute},
		},
	}
}

// backlog: partition 0 lags 6 records, partition 1 is idle (fully
// consumed), partition 2 was never committed (lag from the log start).
func backlog(now time.Time) seed.Backlog {
	return seed.Backlog{Now: now, Group: consumerGroup, Records: []int{10, 5, 4}, Committed: map[int32]int64{0: 4, 1: 5},
		Oldest: 300 * time.Second, Spacing: 10 * time.Second}
}

func newWorld(ctx context.Context, uri string, brokers []string) (*world, error) {
	now := time.Now().UTC().Truncate(time.Second)
	w := &world{promo: "promo-" + now.Format("2006-01-02")}
	mc, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, err
	}
	w.mongo = mc
	if w.Truth, err = seed.Write(ctx, mc.Database(database), description(now, w.promo)); err != nil {
		return w, err
	}
	if w.lag, err = seed.WriteBacklog(ctx, brokers, backlog(now)); err != nil {
		return w, err
	}
	w.kafka, err = kgo.NewClient(kgo.SeedBrokers(brokers...))
	return w, err
}

func (w *world) close() {
	if w.kafka != nil {
		w.kafka.Close()
	}
	if w.mongo != nil {
		_ = w.mongo.Disconnect(context.Background())
	}
}

// produceUpdate stores a window's totals as the aggregator does: the live
// document first (unless the stored one includes more of the partition),
// then the aggregated_metrics message.
func (w *world) produceUpdate(ctx context.Context, u metricdoc.Update) error {
	id := metricdoc.LiveID(u.Granularity, u.WindowStart, u.Meta, u.Partition)
	doc := metricdoc.Live{ID: id, Granularity: u.Granularity, WindowStart: u.WindowStart, WindowEnd: u.WindowEnd, Meta: u.Meta,
		Partition: u.Partition, Totals: u.Totals, Offset: u.Offset, Final: u.Final, UpdatedAt: u.UpdatedAt}
	_, err := w.mongo.Database(database).Collection(metricdoc.CollLive).ReplaceOne(ctx,
		bson.D{{Key: metricdoc.FieldID, Value: id}, {Key: metricdoc.FieldOffset, Value: bson.D{{Key: "$lte", Value: u.Offset}}}},
		doc, options.Replace().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("write live document: %w", err)
	}
	v, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return w.kafka.ProduceSync(ctx, &kgo.Record{Topic: metricdoc.TopicAggregated, Key: []byte(u.Key()), Value: v}).FirstErr()
}

// events sums the events of the cells match accepts.
func (w *world) events(match func(c *seed.Cell) bool) int64 { return w.Sum(match).Events }
