package publish

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Options configures the Kafka side of ingest.
type Options struct {
	// Brokers are the seed brokers. Required.
	Brokers []string
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

// Defaults for Options.
const (
	DefaultClientID        = "campaignpulse-ingest"
	DefaultRawPartitions   = 6
	DefaultCursorTopic     = "ingest_cursors"
	DefaultRawRetention    = 24 * time.Hour
	DefaultDLQRetention    = 7 * 24 * time.Hour
	DefaultAggRetention    = 24 * time.Hour
	DefaultDeliveryTimeout = 10 * time.Second
)

// WithDefaults returns o with every zero setting replaced by its default.
func (o Options) WithDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.RawPartitions == 0 {
		o.RawPartitions = DefaultRawPartitions
	}
	if o.ReplicationFactor == 0 {
		o.ReplicationFactor = -1
	}
	if o.RawRetention == 0 {
		o.RawRetention = DefaultRawRetention
	}
	if o.DLQRetention == 0 {
		o.DLQRetention = DefaultDLQRetention
	}
	if o.AggregatedRetention == 0 {
		o.AggregatedRetention = DefaultAggRetention
	}
	if o.CursorTopic == "" {
		o.CursorTopic = DefaultCursorTopic
	}
	if o.DeliveryTimeout == 0 {
		o.DeliveryTimeout = DefaultDeliveryTimeout
	}
	return o
}

// Validate reports the first bad setting by its flag name.
func (o Options) Validate() error {
	if len(o.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one broker is required")
	}
	for _, b := range o.Brokers {
		if strings.TrimSpace(b) == "" {
			return errors.New("kafka.brokers: empty broker address")
		}
	}
	switch {
	case o.RawPartitions < 1:
		return fmt.Errorf("kafka.raw-partitions: %d, must be >= 1", o.RawPartitions)
	case o.ReplicationFactor < -1 || o.ReplicationFactor == 0:
		return fmt.Errorf("kafka.replication-factor: %d, must be -1 (broker default) or >= 1", o.ReplicationFactor)
	case o.RawRetention < time.Minute:
		return fmt.Errorf("kafka.raw-retention: %s, must be >= 1m", o.RawRetention)
	case o.DLQRetention < time.Minute:
		return fmt.Errorf("kafka.dlq-retention: %s, must be >= 1m", o.DLQRetention)
	case o.AggregatedRetention < time.Minute:
		return fmt.Errorf("kafka.aggregated-retention: %s, must be >= 1m", o.AggregatedRetention)
	case o.CursorTopic == "":
		return errors.New("kafka.cursor-topic: empty")
	case o.DeliveryTimeout < time.Second:
		return fmt.Errorf("kafka.delivery-timeout: %s, must be >= 1s", o.DeliveryTimeout)
	case o.Linger < 0:
		return fmt.Errorf("kafka.linger: %s, must be >= 0", o.Linger)
	}
	return nil
}
