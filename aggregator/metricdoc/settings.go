package metricdoc

import (
	"flag"

	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Names every component shares: ingest writes the topics the aggregator
// reads, the aggregator writes the database and group the plugin reads. Each
// is a setting registered once (Topics.RegisterFlags, the aggregator's
// --kafka.group, the store's --mongo.database) with these defaults, and the
// plugin's settings default to the same values.
const (
	DefaultDatabase      = "campaignpulse"
	DefaultConsumerGroup = "campaignpulse-aggregate"
)

// Flag names of the shared Kafka settings.
const (
	FlagBrokers         = "kafka.brokers"
	FlagRawTopic        = "kafka.raw-topic"
	FlagDLQTopic        = "kafka.dlq-topic"
	FlagAggregatedTopic = "kafka.aggregated-topic"
)

// Topics names the Kafka topics of the data path. Ingest produces to Raw
// and DLQ, the aggregator consumes Raw and produces to DLQ and Aggregated,
// the topics command creates all three and the plugin reads Aggregated (and
// the lag of Raw).
type Topics struct {
	Raw        string
	DLQ        string
	Aggregated string
}

// DefaultTopics are the topic names when nothing else is configured.
func DefaultTopics() Topics {
	return Topics{Raw: TopicRawEvents, DLQ: TopicDLQ, Aggregated: TopicAggregated}
}

// RegisterFlags registers --kafka.raw-topic, --kafka.dlq-topic and
// --kafka.aggregated-topic.
func (t *Topics) RegisterFlags(fs *flag.FlagSet) {
	RegisterTopicFlags(fs, &t.Raw, &t.DLQ, &t.Aggregated)
}

// RegisterTopicFlags registers the three topic settings into separate
// fields, for options that keep them apart.
func RegisterTopicFlags(fs *flag.FlagSet, raw, dlq, aggregated *string) {
	fs.StringVar(raw, FlagRawTopic, TopicRawEvents, "topic of raw events (ingest writes it, the aggregator reads it)")
	fs.StringVar(dlq, FlagDLQTopic, TopicDLQ, "topic receiving invalid events with dlq_reason and dlq_origin headers")
	fs.StringVar(aggregated, FlagAggregatedTopic, TopicAggregated, "topic receiving the changed windows after each flush (the plugin's live stream reads it)")
}

// RegisterBrokers registers --kafka.brokers, the seed brokers of every
// Kafka client of the binary.
func RegisterBrokers(fs *flag.FlagSet, p *[]string) {
	settings.List(fs, p, FlagBrokers, []string{"localhost:9092"}, "comma-separated seed brokers")
}
