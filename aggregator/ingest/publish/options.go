package publish

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Options configures the Kafka side of ingest.
type Options struct {
	// Brokers are the seed brokers. Required.
	Brokers []string `settings:"required"`
	// Topics are the topics ingest produces to and creates. Default
	// metricdoc.DefaultTopics.
	Topics metricdoc.Topics
	// ClientID names the clients to the brokers. Default "campaignpulse-ingest".
	ClientID string
	// RawPartitions is the partition count raw_events is created with.
	// Default 6. An existing topic keeps its count (a mismatch is logged).
	RawPartitions int32
	// ReplicationFactor for created topics. Default -1 (broker default).
	ReplicationFactor int16
	// RawRetention is raw_events' retention.ms. Default 24h.
	RawRetention time.Duration
	// DLQRetention is raw_events_dlq's retention.ms. Default 7 days.
	DLQRetention time.Duration
	// AggregatedRetention is aggregated_metrics' retention.ms. Default 24h.
	AggregatedRetention time.Duration
	// ChangelogRetention is dedup_changelog's retention.ms: the aggregator
	// restores its de-duplication set from it, so it must exceed the
	// correction horizon + allowed lateness + max future + 1h (28h by
	// default) by the longest outage to survive. Default 72h.
	ChangelogRetention time.Duration
	// CursorTopic is the compacted topic holding the pull poller's cursors.
	// Default "ingest_cursors".
	CursorTopic string
	// DeliveryTimeout bounds how long one record may wait for its ack before
	// it fails (kgo.RecordDeliveryTimeout). Default 10s.
	DeliveryTimeout time.Duration
	// Linger is the producer linger. Default 0: the push receiver answers
	// after the ack, so lingering only adds latency; concurrency batches.
	Linger time.Duration
}

// DefaultChangelogRetention is dedup_changelog's retention when created.
const DefaultChangelogRetention = 72 * time.Hour

// Flag names of the Kafka settings of ingest and topics.
const (
	FlagClientID            = "kafka.client-id"
	FlagRawPartitions       = "kafka.raw-partitions"
	FlagReplicationFactor   = "kafka.replication-factor"
	FlagRawRetention        = "kafka.raw-retention"
	FlagDLQRetention        = "kafka.dlq-retention"
	FlagAggregatedRetention = "kafka.aggregated-retention"
	FlagChangelogRetention  = "kafka.changelog-retention"
	FlagCursorTopic         = "kafka.cursor-topic"
	FlagDeliveryTimeout     = "kafka.delivery-timeout"
	FlagLinger              = "kafka.linger"
)

// RegisterFlags registers the producer's and the topics' --kafka.*
// settings; the defaults written here are the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	metricdoc.RegisterBrokers(fs, &o.Brokers)
	o.Topics.RegisterFlags(fs)
	settings.Int32(fs, &o.RawPartitions, FlagRawPartitions, 6, "partitions of raw_events and aggregated_metrics when created (an existing topic keeps its count)")
	settings.Int16(fs, &o.ReplicationFactor, FlagReplicationFactor, -1, "replication factor of created topics; -1 = broker default")
	fs.DurationVar(&o.RawRetention, FlagRawRetention, 24*time.Hour, "retention.ms of raw_events")
	fs.DurationVar(&o.DLQRetention, FlagDLQRetention, 7*24*time.Hour, "retention.ms of raw_events_dlq")
	fs.DurationVar(&o.AggregatedRetention, FlagAggregatedRetention, 24*time.Hour, "retention.ms of aggregated_metrics")
	fs.DurationVar(&o.ChangelogRetention, FlagChangelogRetention, DefaultChangelogRetention, "retention.ms of dedup_changelog (the aggregator's restorable de-duplication state; must exceed the correction horizon + lateness + max future + 1h by the longest outage to survive)")
	fs.StringVar(&o.CursorTopic, FlagCursorTopic, "ingest_cursors", "compacted topic holding the pull poller's cursors")
	fs.StringVar(&o.ClientID, FlagClientID, "campaignpulse-ingest", "client id prefix towards the brokers")
	fs.DurationVar(&o.DeliveryTimeout, FlagDeliveryTimeout, 10*time.Second, "how long a record may wait for its ack (>= 1s)")
	fs.DurationVar(&o.Linger, FlagLinger, 0, "producer linger; 0 = none (the push receiver answers after the ack, so lingering only adds latency; concurrency batches)")
}

// WithDefaults returns o with every zero setting replaced by its default.
func (o Options) WithDefaults() Options {
	return settings.WithDefaults(o, (*Options).RegisterFlags)
}

// Validate reports the first bad setting by its flag name.
func (o Options) Validate() error {
	if len(o.Brokers) == 0 {
		return errors.New(metricdoc.FlagBrokers + ": at least one broker is required")
	}
	for _, b := range o.Brokers {
		if strings.TrimSpace(b) == "" {
			return errors.New(metricdoc.FlagBrokers + ": empty broker address")
		}
	}
	switch {
	case o.Topics.Raw == "" || o.Topics.DLQ == "" || o.Topics.Aggregated == "":
		return fmt.Errorf("%s/%s/%s: empty topic name", metricdoc.FlagRawTopic, metricdoc.FlagDLQTopic, metricdoc.FlagAggregatedTopic)
	case o.RawPartitions < 1:
		return fmt.Errorf("%s: %d, must be >= 1", FlagRawPartitions, o.RawPartitions)
	case o.ReplicationFactor < -1 || o.ReplicationFactor == 0:
		return fmt.Errorf("%s: %d, must be -1 (broker default) or >= 1", FlagReplicationFactor, o.ReplicationFactor)
	case o.RawRetention < time.Minute:
		return fmt.Errorf("%s: %s, must be >= 1m", FlagRawRetention, o.RawRetention)
	case o.DLQRetention < time.Minute:
		return fmt.Errorf("%s: %s, must be >= 1m", FlagDLQRetention, o.DLQRetention)
	case o.ChangelogRetention < time.Hour:
		return fmt.Errorf("%s: %s, must be >= 1h", FlagChangelogRetention, o.ChangelogRetention)
	case o.AggregatedRetention < time.Minute:
		return fmt.Errorf("%s: %s, must be >= 1m", FlagAggregatedRetention, o.AggregatedRetention)
	case o.CursorTopic == "":
		return errors.New(FlagCursorTopic + ": empty")
	case o.DeliveryTimeout < time.Second:
		return fmt.Errorf("%s: %s, must be >= 1s", FlagDeliveryTimeout, o.DeliveryTimeout)
	case o.Linger < 0:
		return fmt.Errorf("%s: %s, must be >= 0", FlagLinger, o.Linger)
	}
	return nil
}
