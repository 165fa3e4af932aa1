package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

const (
	database      = metricdoc.DefaultDatabase
	consumerGroup = metricdoc.DefaultConsumerGroup
	hoursSeeded   = 6
)

// cell is one (granularity, window, dimensions, partition) of the ground
// truth. Each is stored once in the collection the storage contract says,
// plus finalized copies left in live_metrics that a correct reader skips.
type cell struct {
	g      metricdoc.Granularity
	window time.Time
	meta   metricdoc.Meta
	part   int32
	totals metricdoc.Totals
}

type seed struct {
	now        time.Time // the "now" of every query
	base       time.Time // first seeded hour window
	today      time.Time // start of today's day window (UTC)
	promo      string    // campaign named after today's date, for the macro test
	finHour    [2]time.Time
	cells      []cell
	brokers    []string
	kafka      *kgo.Client
	admin      *kadm.Client
	mongo      *mongo.Client
	lagOldest  map[int32]time.Time // timestamp of the oldest unconsumed raw_events record
	lagRecords map[int32]int64
	stored     map[string]int64 // documents inserted per collection
}

func newSeed(ctx context.Context, uri string, brokers []string) (*seed, error) {
	now := time.Now().UTC().Truncate(time.Second)
	s := &seed{now: now, brokers: brokers}
	s.base = metricdoc.WindowStart(metricdoc.Hour, now, time.UTC).Add(-(hoursSeeded - 1) * time.Hour)
	s.today = metricdoc.WindowStart(metricdoc.Day, now, time.UTC)
	s.promo = "promo-" + now.Format("2006-01-02")
	// Partition 0 finalized one hour further than partition 1: the reader
	// must use the minimum, and partition 0's hour 3 is in both places.
	s.finHour = [2]time.Time{s.base.Add(4 * time.Hour), s.base.Add(3 * time.Hour)}
	s.cells = s.truth()

	mc, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, err
	}
	s.mongo = mc
	if err := s.seedMongo(ctx, mc.Database(database)); err != nil {
		return nil, err
	}
	if s.kafka, err = kgo.NewClient(kgo.SeedBrokers(brokers...)); err != nil {
		return nil, err
	}
	s.admin = kadm.NewClient(s.kafka)
	return s, s.seedKafka(ctx)
}

func (s *seed) close() {
	if s.kafka != nil {
		s.kafka.Close()
	}
	if s.mongo != nil {
		_ = s.mongo.Disconnect(context.Background())
	}
}

var metas = []metricdoc.Meta{
	{AppID: "id1", MediaSource: "fb", Campaign: "alpha", Platform: "ios", EventName: metricdoc.InstallEventName},
	{AppID: "id1", MediaSource: "google", Campaign: "beta", Platform: "android", EventName: metricdoc.InstallEventName},
	{AppID: "id1", MediaSource: "google", Campaign: "gamma", Platform: "android", EventName: metricdoc.InstallEventName},
	{AppID: "id2", MediaSource: "fb", Campaign: "", Platform: "ios", EventName: metricdoc.InstallEventName}, // campaign set below
	{AppID: "id1", MediaSource: "fb", Campaign: "alpha", Platform: "ios", EventName: "purchase", Currency: "USD"},
	{AppID: "id2", MediaSource: "google", Campaign: "beta", Platform: "android", EventName: "purchase", Currency: "EUR"},
	{AppID: "id2", MediaSource: "google", Campaign: "beta", Platform: "android", EventName: "login"},
}

// truth builds the cells: hours base..base+5 for two partitions, day
// windows summed from them, and two earlier days that exist only as days.
func (s *seed) truth() []cell {
	ms := append([]metricdoc.Meta(nil), metas...)
	ms[3].Campaign = s.promo
	var out []cell
	days := map[string]*cell{}
	addDay := func(c cell) {
		d := metricdoc.WindowStart(metricdoc.Day, c.window, time.UTC)
		k := fmt.Sprint(d.Unix(), metricdoc.LiveID(metricdoc.Day, d, c.meta, c.part))
		if days[k] == nil {
			days[k] = &cell{g: metricdoc.Day, window: d, meta: c.meta, part: c.part}
		}
		days[k].totals.Add(c.totals)
	}
	for i := range hoursSeeded {
		for p := range int32(2) {
			for k, m := range ms {
				t := metricdoc.Totals{Events: int64((i + 1) * int(p+1) * (k + 1))}
				if m.Currency != "" {
					t.RevenueMicros = t.Events * 1_990_000
					t.RevenueUSDMicros = t.RevenueMicros
					if m.Currency == "EUR" {
						t.RevenueUSDMicros = t.Events * 2_150_000
					}
				}
				c := cell{g: metricdoc.Hour, window: s.base.Add(time.Duration(i) * time.Hour), meta: m, part: p, totals: t}
				out = append(out, c)
				addDay(c)
			}
		}
	}
	for back := 1; back <= 2; back++ {
		for p := range int32(2) {
			for k, m := range ms {
				t := metricdoc.Totals{Events: int64(100*back + k + int(p))}
				if m.Currency != "" {
					t.RevenueMicros, t.RevenueUSDMicros = t.Events*1_000_000, t.Events*1_100_000
				}
				addDay(cell{window: s.today.AddDate(0, 0, -back), meta: m, part: p, totals: t})
			}
		}
	}
	for _, c := range days {
		out = append(out, *c)
	}
	return out
}

func (s *seed) finalizedThrough(g metricdoc.Granularity, p int32) time.Time {
	if g == metricdoc.Day {
		return s.today
	}
	return s.finHour[p]
}

// expiredBefore: finalized windows before this have left live_metrics, so
// reading them from there alone would miss them.
func (s *seed) expiredBefore(g metricdoc.Granularity) time.Time {
	if g == metricdoc.Day {
		return s.today.AddDate(0, 0, -1)
	}
	return s.base.Add(time.Hour)
}

// seedMongo stores each cell where the aggregator would: windows finalized
// for their partition go to the time-series collection AND stay in
// live_metrics (final, expiring) until the TTL removes them; the rest are
// live only. So neither collection alone gives the right totals, and
// reading both without the split counts windows twice.
func (s *seed) seedMongo(ctx context.Context, db *mongo.Database) error {
	var live, hourly, daily []any
	finals := 0
	expire := s.now.Add(48 * time.Hour)
	for _, c := range s.cells {
		final := c.window.Before(s.finalizedThrough(c.g, c.part))
		id := metricdoc.LiveID(c.g, c.window, c.meta, c.part)
		l := metricdoc.Live{
			ID: id, Granularity: c.g, WindowStart: c.window, WindowEnd: metricdoc.WindowEnd(c.g, c.window, time.UTC),
			Meta: c.meta, Partition: c.part, Totals: c.totals, Offset: 1000, Final: final, UpdatedAt: s.now,
		}
		if final {
			l.ExpireAt = &expire
			f := metricdoc.Final{WindowStart: c.window, Meta: c.meta, Partition: c.part, Totals: c.totals}
			// Every third final window is there twice, as an append the
			// server applied after its client gave up leaves it (time-series
			// collections have no unique key): readers count it once.
			copies := 1
			if finals++; finals%3 == 0 {
				copies = 2
			}
			for range copies {
				if c.g == metricdoc.Hour {
					hourly = append(hourly, f)
				} else {
					daily = append(daily, f)
				}
			}
		}
		if final && c.window.Before(s.expiredBefore(c.g)) {
			continue // its live copy has already been removed by the TTL index
		}
		live = append(live, l)
	}
	var cps []any
	for p := range int32(2) {
		cps = append(cps, metricdoc.Checkpoint{
			ID: metricdoc.CheckpointID(metricdoc.TopicRawEvents, p), Topic: metricdoc.TopicRawEvents, Partition: p,
			Offset: 1000, Watermark: s.now, FinalizedHour: s.finHour[p], FinalizedDay: s.today, UpdatedAt: s.now,
			TimeZone: "UTC",
		})
	}
	fresh := []any{
		metricdoc.Freshness{ID: "id1|" + metricdoc.SourcePush, AppID: "id1", Source: metricdoc.SourcePush, LastEventAt: s.now.Add(-30 * time.Second), LastIngest: s.now, UpdatedAt: s.now},
		metricdoc.Freshness{ID: "id1|" + metricdoc.SourcePull, AppID: "id1", Source: metricdoc.SourcePull, LastEventAt: s.now.Add(-time.Hour), LastIngest: s.now, UpdatedAt: s.now},
		metricdoc.Freshness{ID: "id2|" + metricdoc.SourcePush, AppID: "id2", Source: metricdoc.SourcePush, LastEventAt: s.now.Add(-10 * time.Minute), LastIngest: s.now, UpdatedAt: s.now},
	}
	for coll, docs := range map[string][]any{
		metricdoc.CollLive: live, metricdoc.CollHourly: hourly, metricdoc.CollDaily: daily,
		metricdoc.CollCheckpoints: cps, metricdoc.CollFreshness: fresh,
	} {
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("insert %s: %w", coll, err)
		}
		if s.stored == nil {
			s.stored = map[string]int64{}
		}
		s.stored[coll] = int64(len(docs))
	}
	return nil
}

// seedKafka creates the topics, writes raw_events records with known
// timestamps and commits the consumer group's offsets without any member:
// partition 0 lags 6 records, partition 1 is idle (fully consumed),
// partition 2 was never committed (lag from the log start).
func (s *seed) seedKafka(ctx context.Context) error {
	if _, err := s.admin.CreateTopics(ctx, 3, 1, nil, metricdoc.TopicRawEvents, metricdoc.TopicAggregated); err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	counts := map[int32]int{0: 10, 1: 5, 2: 4}
	commit := map[int32]int64{0: 4, 1: 5}
	s.lagOldest = map[int32]time.Time{}
	s.lagRecords = map[int32]int64{0: 6, 1: 0, 2: 4}
	var recs []*kgo.Record
	for p, n := range counts {
		for i := range n {
			ts := s.now.Add(-time.Duration(300-10*i) * time.Second)
			recs = append(recs, &kgo.Record{Topic: metricdoc.TopicRawEvents, Partition: p, Timestamp: ts, Value: []byte(`{}`)})
			if int64(i) == commit[p] && s.lagRecords[p] > 0 {
				s.lagOldest[p] = ts
			}
		}
	}
	manual, err := kgo.NewClient(kgo.SeedBrokers(s.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer manual.Close()
	if err := manual.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce raw_events: %w", err)
	}
	var offs kadm.Offsets
	for p, at := range commit {
		offs.AddOffset(metricdoc.TopicRawEvents, p, at, -1)
	}
	resp, err := s.admin.CommitOffsets(ctx, consumerGroup, offs)
	if err != nil {
		return fmt.Errorf("commit offsets: %w", err)
	}
	return resp.Error()
}

// produceUpdate stores a window's totals as the aggregator does: the live
// document first (unless the stored one includes more of the partition),
// then the aggregated_metrics message.
func (s *seed) produceUpdate(ctx context.Context, u metricdoc.Update) error {
	id := metricdoc.LiveID(u.Granularity, u.WindowStart, u.Meta, u.Partition)
	doc := metricdoc.Live{ID: id, Granularity: u.Granularity, WindowStart: u.WindowStart, WindowEnd: u.WindowEnd, Meta: u.Meta,
		Partition: u.Partition, Totals: u.Totals, Offset: u.Offset, Final: u.Final, UpdatedAt: u.UpdatedAt}
	_, err := s.mongo.Database(database).Collection(metricdoc.CollLive).ReplaceOne(ctx,
		bson.D{{Key: metricdoc.FieldID, Value: id}, {Key: metricdoc.FieldOffset, Value: bson.D{{Key: "$lte", Value: u.Offset}}}},
		doc, options.Replace().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("write live document: %w", err)
	}
	v, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return s.kafka.ProduceSync(ctx, &kgo.Record{Topic: metricdoc.TopicAggregated, Key: []byte(u.Key()), Value: v}).FirstErr()
}

// sum adds the truth over cells that match.
func (s *seed) sum(match func(c *cell) bool, value func(t metricdoc.Totals) int64) int64 {
	var n int64
	for i := range s.cells {
		if match(&s.cells[i]) {
			n += value(s.cells[i].totals)
		}
	}
	return n
}

func events(t metricdoc.Totals) int64 { return t.Events }
