package main

import (
	"context"
	"flag"
	"log/slog"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
)

func init() {
	register("topics", "create the Kafka topics (raw_events, raw_events_dlq, aggregated_metrics, ingest_cursors) and exit", runTopics)
}

// kafkaFlags defines the --kafka.* flags shared by topics and ingest; the
// returned func builds the options after parsing.
func kafkaFlags(fs *flag.FlagSet) func() publish.Options {
	var (
		o       publish.Options
		brokers string
		parts   int
		rf      int
	)
	fs.StringVar(&brokers, "kafka.brokers", "localhost:9092", "comma-separated seed brokers")
	fs.IntVar(&parts, "kafka.raw-partitions", publish.DefaultRawPartitions, "partitions of raw_events and aggregated_metrics when created (an existing topic keeps its count)")
	fs.IntVar(&rf, "kafka.replication-factor", -1, "replication factor of created topics; -1 = broker default")
	fs.DurationVar(&o.RawRetention, "kafka.raw-retention", publish.DefaultRawRetention, "retention.ms of raw_events")
	fs.DurationVar(&o.DLQRetention, "kafka.dlq-retention", publish.DefaultDLQRetention, "retention.ms of raw_events_dlq")
	fs.DurationVar(&o.AggregatedRetention, "kafka.aggregated-retention", publish.DefaultAggRetention, "retention.ms of aggregated_metrics")
	fs.StringVar(&o.CursorTopic, "kafka.cursor-topic", publish.DefaultCursorTopic, "compacted topic holding the pull poller's cursors")
	fs.StringVar(&o.ClientID, "kafka.client-id", publish.DefaultClientID, "client id prefix towards the brokers")
	fs.DurationVar(&o.DeliveryTimeout, "kafka.delivery-timeout", publish.DefaultDeliveryTimeout, "how long a record may wait for its ack (>= 1s)")
	return func() publish.Options {
		for _, b := range strings.Split(brokers, ",") {
			if b = strings.TrimSpace(b); b != "" {
				o.Brokers = append(o.Brokers, b)
			}
		}
		o.RawPartitions = int32(parts)
		o.ReplicationFactor = int16(rf)
		return o
	}
}

// runTopics creates the topics idempotently; existing topics are kept.
func runTopics(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("topics", flag.ContinueOnError)
	kafka := kafkaFlags(fs)
	timeout := fs.Duration("kafka.timeout", 30*time.Second, "give up creating topics after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return ingest.CreateTopics(ctx, kafka(), log)
}
