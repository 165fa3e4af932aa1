package aggregate

import (
	"errors"
	"fmt"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Options configure the aggregator.
type Options struct {
	// Brokers are the Kafka seed brokers. Required.
	Brokers []string
	// Group is the consumer group shared by all aggregators. Default
	// "campaignpulse-aggregate".
	Group string
	// InstanceID makes the aggregator a static group member: restarted
	// with the same id it gets its partitions back at once. Default "" (a
	// dynamic member).
	InstanceID string
	// SessionTimeout is how long the group waits for a silent member before
	// moving its partitions. Default 45s.
	SessionTimeout time.Duration
	// RebalanceTimeout bounds how long a rebalance waits for every member
	// to rejoin; a killed member holds up the group this long. Default 60s.
	RebalanceTimeout time.Duration
	// HeartbeatInterval is how often the member heartbeats, which is also how
	// fast it learns of a rebalance. Default 3s.
	HeartbeatInterval time.Duration
	// Topic is the raw event topic. Default metricdoc.TopicRawEvents.
	Topic string
	// DLQTopic receives invalid events. Default metricdoc.TopicDLQ.
	DLQTopic string
	// UpdatesTopic receives the changed windows after each flush. Default
	// metricdoc.TopicAggregated.
	UpdatesTopic string
	// Location sets day boundaries (and hour boundaries of zones with
	// half-hour offsets). Default UTC.
	Location *time.Location
	// AllowedLateness: the watermark is the newest event time minus this.
	// Default 2h.
	AllowedLateness time.Duration
	// CorrectionHorizon: events older than watermark minus this are too late;
	// younger late events still correct their windows. It is also the
	// de-duplication horizon. Default 24h.
	CorrectionHorizon time.Duration
	// MaxFuture: events timed further after their Kafka record timestamp are
	// dead-lettered as bad_time. 0 disables the check (and makes a restart
	// replay the whole partition to rebuild the de-dup set). Default 1h.
	MaxFuture time.Duration
	// FlushInterval is the period of writes to MongoDB and updates to
	// aggregated_metrics. Default 1s.
	FlushInterval time.Duration
	// MaxDirtyWindows triggers a flush before FlushInterval when this many
	// windows wait to be written, bounding the work of one flush (and what a
	// crash in the middle of it throws away). Default 2000.
	MaxDirtyWindows int
	// ExpiryInterval is the period of application-side expiry on servers
	// without time-series collections or TTL indexes. Default 10m.
	ExpiryInterval time.Duration
	// MaxPollRecords bounds the records handled between rebalance checks.
	// Default 10000.
	MaxPollRecords int
	// Now is the wall clock (freshness, delay metrics, backoff). Default
	// time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Group == "" {
		o.Group = "campaignpulse-aggregate"
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 45 * time.Second
	}
	if o.RebalanceTimeout == 0 {
		o.RebalanceTimeout = 60 * time.Second
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 3 * time.Second
	}
	if o.Topic == "" {
		o.Topic = metricdoc.TopicRawEvents
	}
	if o.DLQTopic == "" {
		o.DLQTopic = metricdoc.TopicDLQ
	}
	if o.UpdatesTopic == "" {
		o.UpdatesTopic = metricdoc.TopicAggregated
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.AllowedLateness == 0 {
		o.AllowedLateness = 2 * time.Hour
	}
	if o.CorrectionHorizon == 0 {
		o.CorrectionHorizon = 24 * time.Hour
	}
	if o.MaxFuture == 0 {
		o.MaxFuture = time.Hour
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = time.Second
	}
	if o.MaxDirtyWindows == 0 {
		o.MaxDirtyWindows = 2000
	}
	if o.ExpiryInterval == 0 {
		o.ExpiryInterval = 10 * time.Minute
	}
	if o.MaxPollRecords == 0 {
		o.MaxPollRecords = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	switch {
	case len(o.Brokers) == 0:
		return errors.New("kafka.brokers: at least one broker is required")
	case o.SessionTimeout < time.Second:
		return fmt.Errorf("kafka.session-timeout %s: must be at least 1s", o.SessionTimeout)
	case o.RebalanceTimeout < time.Second:
		return fmt.Errorf("kafka.rebalance-timeout %s: must be at least 1s", o.RebalanceTimeout)
	case o.HeartbeatInterval < 10*time.Millisecond || o.HeartbeatInterval >= o.SessionTimeout:
		return fmt.Errorf("kafka.heartbeat-interval %s: must be at least 10ms and below kafka.session-timeout", o.HeartbeatInterval)
	case o.AllowedLateness < 0:
		return fmt.Errorf("aggregate.lateness %s: must not be negative", o.AllowedLateness)
	case o.CorrectionHorizon < time.Hour:
		return fmt.Errorf("aggregate.correction-horizon %s: must be at least 1h", o.CorrectionHorizon)
	case o.MaxFuture < 0:
		return fmt.Errorf("aggregate.max-future %s: must not be negative", o.MaxFuture)
	case o.FlushInterval < 10*time.Millisecond || o.FlushInterval > time.Minute:
		return fmt.Errorf("aggregate.flush-interval %s: must be between 10ms and 1m", o.FlushInterval)
	case o.MaxDirtyWindows < 1:
		return fmt.Errorf("aggregate.max-dirty-windows %d: must be positive", o.MaxDirtyWindows)
	case o.ExpiryInterval < time.Second:
		return fmt.Errorf("aggregate.expiry-interval %s: must be at least 1s", o.ExpiryInterval)
	case o.MaxPollRecords < 1:
		return fmt.Errorf("aggregate.max-poll-records %d: must be positive", o.MaxPollRecords)
	}
	return nil
}

func (o *Options) rules() *rules {
	return &rules{
		loc:        o.Location,
		lateness:   o.AllowedLateness.Milliseconds(),
		correction: o.CorrectionHorizon.Milliseconds(),
		maxFuture:  o.MaxFuture.Milliseconds(),
	}
}
