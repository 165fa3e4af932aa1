// Package status gathers what an operator asks first about a running
// pipeline, from Kafka and MongoDB alone (no process needs to be reachable):
// the topics and their retention, how far the aggregator's consumer group
// is behind per partition, where each pull cursor stands, each partition's
// watermark and last flush as checkpointed, and what the store occupies.
// `campaignpulse status` prints it as tables or JSON.
package status

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/grouplag"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/pull"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/storeusage"
)

// Options say what to look at.
type Options struct {
	// Brokers are the seed brokers.
	Brokers []string
	// Group is the aggregators' consumer group; it reads Topics.Raw.
	Group  string
	Topics metricdoc.Topics
	// CursorTopic holds the pull poller's cursors.
	CursorTopic string
	// Database holds the metric collections.
	Database string
	// Timeout bounds the whole report.
	Timeout time.Duration
	// ConsumerOpts are extra options of every Kafka client (tests).
	ConsumerOpts []kgo.Opt
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// RegisterFlags registers the settings of a status report.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	metricdoc.RegisterBrokers(fs, &o.Brokers)
	fs.StringVar(&o.Group, "kafka.group", metricdoc.DefaultConsumerGroup, "the aggregators' consumer group")
	o.Topics.RegisterFlags(fs)
	fs.StringVar(&o.CursorTopic, publish.FlagCursorTopic, "ingest_cursors", "compacted topic holding the pull poller's cursors")
	fs.StringVar(&o.Database, metricstore.FlagDatabase, metricdoc.DefaultDatabase, "database of the metric collections")
	fs.DurationVar(&o.Timeout, "status.timeout", 20*time.Second, "give up reading after this long")
}

// KafkaOpts are the options of the Kafka clients status uses.
func (o Options) KafkaOpts() []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(o.Brokers...), kgo.ClientID("campaignpulse-status")}, o.ConsumerOpts...)
}

// Report is everything status shows. A section that could not be read is
// empty and its reason is in Problems.
type Report struct {
	At          time.Time               `json:"at"`
	Topics      []Topic                 `json:"topics"`
	Lag         Lag                     `json:"lag"`
	Cursors     []Cursor                `json:"pullCursors"`
	Partitions  []Partition             `json:"partitions"`
	Database    string                  `json:"database"`
	Collections []storeusage.Collection `json:"collections"`
	Problems    []string                `json:"problems"`
}

// Topic is one Kafka topic as created.
type Topic struct {
	Name       string `json:"name"`
	Exists     bool   `json:"exists"`
	Partitions int    `json:"partitions"`
	Replicas   int    `json:"replicas"`
	// RetentionMs is retention.ms (-1: kept forever).
	RetentionMs   int64  `json:"retentionMs"`
	CleanupPolicy string `json:"cleanupPolicy"`
}

// Lag is the consumer group's position on the raw topic.
type Lag struct {
	Group      string         `json:"group"`
	Topic      string         `json:"topic"`
	Committed  bool           `json:"committed"`
	Partitions []LagPartition `json:"partitions"`
}

// LagPartition is the group's lag on one partition.
type LagPartition struct {
	Partition int32 `json:"partition"`
	Next      int64 `json:"next"`
	End       int64 `json:"end"`
	Records   int64 `json:"records"`
	// Seconds is nil when the oldest unconsumed record could not be read.
	Seconds *float64 `json:"seconds"`
}

// Cursor is one pull cursor: every window before Next is on the raw topic;
// AgeSeconds is how far that lies behind now. PartialRecords > 0: the
// window starting at Next is being produced in several transactions, and
// that many of its records are committed.
type Cursor struct {
	AppID          string    `json:"appId"`
	Report         string    `json:"report"`
	Next           time.Time `json:"next"`
	AgeSeconds     float64   `json:"ageSeconds"`
	PartialRecords int       `json:"partialRecords,omitempty"`
}

// Partition is one raw-topic partition as the aggregator checkpointed it.
type Partition struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Watermark time.Time `json:"watermark"`
	// LastFlush is when the checkpoint was written (every flush writes it).
	LastFlush           time.Time `json:"lastFlush"`
	LastFlushAgeSeconds float64   `json:"lastFlushAgeSeconds"`
	FinalizedHour       time.Time `json:"finalizedHour"`
	FinalizedDay        time.Time `json:"finalizedDay"`
	Counted             int64     `json:"counted"`
	Duplicates          int64     `json:"duplicates"`
	TooLate             int64     `json:"tooLate"`
	DeadLettered        int64     `json:"deadLettered"`
}

// Collect reads every section; one failing section does not stop the others.
func Collect(ctx context.Context, adm *kadm.Client, db *mongo.Database, o Options) Report {
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now().UTC()
	r := Report{At: now, Database: db.Name(), Lag: Lag{Group: o.Group, Topic: o.Topics.Raw}}
	problem := func(section string, err error) {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", section, err))
	}
	var err error
	if r.Topics, err = topics(ctx, adm, []string{o.Topics.Raw, o.Topics.DLQ, o.Topics.Aggregated, o.CursorTopic}); err != nil {
		problem("topics", err)
	}
	if res, err := grouplag.Read(ctx, adm, o.Group, o.Topics.Raw, grouplag.Options{ConsumerOpts: o.KafkaOpts(), Now: o.Now}); err != nil {
		problem("consumer lag", err)
	} else {
		r.Lag.Committed = res.Committed
		for _, p := range res.Partitions {
			r.Lag.Partitions = append(r.Lag.Partitions, LagPartition{Partition: p.Partition, Next: p.Next, End: p.End, Records: p.Records, Seconds: p.Seconds})
		}
	}
	newConsumer := func(extra ...kgo.Opt) (*kgo.Client, error) {
		return kgo.NewClient(append(o.KafkaOpts(), extra...)...)
	}
	if cs, err := pull.ReadCursors(ctx, adm, newConsumer, o.CursorTopic); err != nil {
		problem("pull cursors", err)
	} else {
		for _, c := range cs {
			r.Cursors = append(r.Cursors, Cursor{AppID: c.AppID, Report: c.Report, Next: c.Next.UTC(), AgeSeconds: max(now.Sub(c.Next).Seconds(), 0),
				PartialRecords: c.PartialRecords})
		}
	}
	if r.Partitions, err = checkpoints(ctx, db, now); err != nil {
		problem("checkpoints", err)
	}
	if r.Collections, err = storeusage.Read(ctx, db); err != nil {
		problem("collections", err)
	}
	return r
}

func topics(ctx context.Context, adm *kadm.Client, names []string) ([]Topic, error) {
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var existing []string
	for _, name := range names {
		if d, ok := details[name]; ok && d.Err == nil {
			existing = append(existing, name)
		}
	}
	var configs kadm.ResourceConfigs
	if len(existing) > 0 {
		if configs, err = adm.DescribeTopicConfigs(ctx, existing...); err != nil {
			return nil, fmt.Errorf("describe topic configs: %w", err)
		}
	}
	out := make([]Topic, 0, len(names))
	for _, name := range names {
		t := Topic{Name: name}
		d, ok := details[name]
		if ok && d.Err == nil {
			t.Exists, t.Partitions = true, len(d.Partitions)
			for _, p := range d.Partitions {
				t.Replicas = max(t.Replicas, len(p.Replicas))
			}
		}
		if rc, err := configs.On(name, nil); err == nil && rc.Err == nil && t.Exists {
			for _, c := range rc.Configs {
				switch c.Key {
				case "retention.ms":
					t.RetentionMs, _ = strconv.ParseInt(c.MaybeValue(), 10, 64)
				case "cleanup.policy":
					t.CleanupPolicy = c.MaybeValue()
				}
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func checkpoints(ctx context.Context, db *mongo.Database, now time.Time) ([]Partition, error) {
	cur, err := db.Collection(metricdoc.CollCheckpoints).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", metricdoc.CollCheckpoints, err)
	}
	var cps []metricdoc.Checkpoint
	if err := cur.All(ctx, &cps); err != nil {
		return nil, fmt.Errorf("read %s: %w", metricdoc.CollCheckpoints, err)
	}
	out := make([]Partition, len(cps))
	for i, c := range cps {
		out[i] = Partition{
			Topic: c.Topic, Partition: c.Partition, Offset: c.Offset,
			Watermark: c.Watermark.UTC(), LastFlush: c.UpdatedAt.UTC(), LastFlushAgeSeconds: max(now.Sub(c.UpdatedAt).Seconds(), 0),
			FinalizedHour: c.FinalizedHour.UTC(), FinalizedDay: c.FinalizedDay.UTC(),
			Counted: c.Counted, Duplicates: c.Duplicates, TooLate: c.TooLate, DeadLettered: c.DeadLettered,
		}
	}
	slices.SortFunc(out, func(a, b Partition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	return out, nil
}
