package aggregate

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Options configure the aggregator.
type Options struct {
	// Brokers are the Kafka seed brokers. Required.
	Brokers []string `settings:"required"`
	// Group is the consumer group shared by all aggregators. Default
	// metricdoc.DefaultConsumerGroup.
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
	// AllowedLateness: the watermark is the newest event time minus this;
	// settings.Off for none. Default 2h.
	AllowedLateness time.Duration
	// CorrectionHorizon: events older than watermark minus this are too late;
	// younger late events still correct their windows. It is also the
	// de-duplication horizon. Default 24h.
	CorrectionHorizon time.Duration
	// MaxFuture: events timed further after their Kafka record timestamp are
	// dead-lettered as bad_time. settings.Off disables the check (and makes a restart
	// replay the whole partition to rebuild the de-dup set). Default 1h.
	MaxFuture time.Duration
	// FlushInterval is the period of updates to aggregated_metrics and the
	// soonest a store round follows the previous one. Default 250ms: the
	// updates cost milliseconds, and the live stream is this much behind.
	FlushInterval time.Duration
	// MaxRoundWindows is the most changed windows one store round writes:
	// when more wait, a round takes the newest and the oldest half and half,
	// so fresh changes reach MongoDB within a round or two while a backlog
	// (a large pulled report on a slow store) drains behind them. A round
	// also starts before FlushInterval when this many wait and none is in
	// flight. Default 2000.
	MaxRoundWindows int
	// ExpiryInterval is the period of application-side expiry on servers
	// without time-series collections or TTL indexes. Default 10m.
	ExpiryInterval time.Duration
	// MaxPollRecords bounds the records handled between rebalance checks.
	// Default 10000.
	MaxPollRecords int
	// Workers is how many goroutines count the partitions of one poll in
	// parallel (the poll loop's own included); a partition is counted by
	// one of them at a time. Default 0: one per core (GOMAXPROCS). 1 counts
	// on the poll loop alone.
	Workers int
	// ChangelogTopic receives the identities the de-duplication adds, tagged
	// with their source offsets, so a new owner restores the set from it
	// instead of re-reading raw_events. Default dedup_changelog.
	ChangelogTopic string
	// ChangelogRetention is the changelog's retention.ms when the
	// aggregator creates it. Default 72h.
	ChangelogRetention time.Duration
	// StateDir holds the local spill store of identities (wiped at start).
	// Default: a new directory under the system temporary directory.
	StateDir string
	// HotIdentities is how many identities stay in memory across all owned
	// partitions before older hours spill to the local store. Default 2M.
	HotIdentities int
	// StateCacheBytes is the block cache of the local store. Default 32 MiB.
	StateCacheBytes int64
	// Now is the wall clock (freshness, delay metrics, backoff). Default
	// time.Now.
	Now func() time.Time
}

// Flag names of the aggregator's settings, used by RegisterFlags and by the
// messages of validate.
const (
	FlagGroup             = "kafka.group"
	FlagInstanceID        = "kafka.instance-id"
	FlagSessionTimeout    = "kafka.session-timeout"
	FlagRebalanceTimeout  = "kafka.rebalance-timeout"
	FlagHeartbeatInterval = "kafka.heartbeat-interval"
	FlagTimezone          = "aggregate.timezone"
	FlagLateness          = "aggregate.lateness"
	FlagCorrection        = "aggregate.correction-horizon"
	FlagMaxFuture         = "aggregate.max-future"
	FlagFlushInterval     = "aggregate.flush-interval"
	FlagMaxRoundWindows   = "aggregate.max-round-windows"
	FlagExpiryInterval    = "aggregate.expiry-interval"
	FlagMaxPollRecords    = "aggregate.max-poll-records"
	FlagWorkers           = "aggregate.workers"
	FlagChangelogTopic    = "kafka.changelog-topic"
	FlagChangelogRetain   = "kafka.changelog-retention"
	FlagStateDir          = "aggregate.state-dir"
	FlagHotIdentities     = "aggregate.hot-identities"
	FlagStateCacheBytes   = "aggregate.state-cache-bytes"
)

// RegisterFlags registers the --aggregate.* settings and the aggregator's
// Kafka group and topics; the defaults written here are the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	metricdoc.RegisterBrokers(fs, &o.Brokers)
	fs.StringVar(&o.Group, FlagGroup, metricdoc.DefaultConsumerGroup, "consumer group shared by all aggregators")
	fs.StringVar(&o.InstanceID, FlagInstanceID, "", "static group member id (group.instance.id): a restarted aggregator with the same id takes its partitions back without waiting for the session timeout; empty = dynamic member")
	fs.DurationVar(&o.SessionTimeout, FlagSessionTimeout, 45*time.Second, "group session timeout: how long a dead aggregator keeps its partitions")
	fs.DurationVar(&o.RebalanceTimeout, FlagRebalanceTimeout, 60*time.Second, "how long a rebalance waits for members to rejoin (a killed member stalls the group this long)")
	fs.DurationVar(&o.HeartbeatInterval, FlagHeartbeatInterval, 3*time.Second, "group heartbeat period: how fast a member notices a rebalance")
	metricdoc.RegisterTopicFlags(fs, &o.Topic, &o.DLQTopic, &o.UpdatesTopic)
	RegisterTimezone(fs, &o.Location)
	settings.OffDuration(fs, &o.AllowedLateness, FlagLateness, 2*time.Hour, "allowed lateness: watermark = newest event time minus this; 0 = none")
	fs.DurationVar(&o.CorrectionHorizon, FlagCorrection, 24*time.Hour, "late events older than watermark minus this are too late; also the de-duplication horizon")
	settings.OffDuration(fs, &o.MaxFuture, FlagMaxFuture, time.Hour, "events timed this far after their ingest time are dead-lettered as bad_time; 0 = no check")
	fs.DurationVar(&o.FlushInterval, FlagFlushInterval, 250*time.Millisecond, "period of aggregated_metrics updates (the live stream's delay) and the soonest a MongoDB write round follows the previous one")
	fs.IntVar(&o.MaxRoundWindows, FlagMaxRoundWindows, 2000, "most changed windows one MongoDB write round takes (newest and oldest first); a round also starts early when this many wait. Lower it for slow stores like FerretDB")
	fs.DurationVar(&o.ExpiryInterval, FlagExpiryInterval, 10*time.Minute, "period of application-side expiry where MongoDB lacks time-series/TTL")
	fs.IntVar(&o.MaxPollRecords, FlagMaxPollRecords, 10000, "records handled between rebalance checks")
	fs.IntVar(&o.Workers, FlagWorkers, 0, "goroutines counting the partitions of one poll in parallel (each partition by one at a time); 0 = one per core (GOMAXPROCS), 1 = all on the poll loop")
	fs.StringVar(&o.ChangelogTopic, FlagChangelogTopic, metricdoc.TopicDedupChangelog, "topic of the de-duplication identities (tagged with source offsets) a new owner restores instead of replaying raw_events; created with as many partitions as raw_events")
	fs.DurationVar(&o.ChangelogRetention, FlagChangelogRetain, 72*time.Hour, "retention.ms when the aggregator creates the changelog topic; at start the topic's retention must exceed lateness + correction horizon + max future + 1h")
	fs.StringVar(&o.StateDir, FlagStateDir, "", "directory of the local de-duplication store (wiped at start; not on a tmpfs, which counts as memory); empty = a new temporary directory")
	fs.IntVar(&o.HotIdentities, FlagHotIdentities, 2_000_000, "de-duplication identities kept in memory (~40 B each) across owned partitions; older event hours spill to the local store")
	fs.Int64Var(&o.StateCacheBytes, FlagStateCacheBytes, 32<<20, "block cache of the local de-duplication store, in bytes")
}

// RegisterTimezone registers --aggregate.timezone, the zone of day windows
// (also taken by the all-in-one mode, whose plugin must use the same zone).
func RegisterTimezone(fs *flag.FlagSet, p **time.Location) {
	settings.Location(fs, p, FlagTimezone, time.UTC, "IANA time zone of day windows (marketers' 'today')")
}

// WithDefaults returns o with every zero setting replaced by its default.
func (o Options) WithDefaults() Options {
	o = settings.WithDefaults(o, (*Options).RegisterFlags)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func (o *Options) validate() error {
	switch {
	case len(o.Brokers) == 0:
		return errors.New(metricdoc.FlagBrokers + ": at least one broker is required")
	case o.SessionTimeout < time.Second:
		return fmt.Errorf("%s %s: must be at least 1s", FlagSessionTimeout, o.SessionTimeout)
	case o.RebalanceTimeout < time.Second:
		return fmt.Errorf("%s %s: must be at least 1s", FlagRebalanceTimeout, o.RebalanceTimeout)
	case o.HeartbeatInterval < 10*time.Millisecond || o.HeartbeatInterval >= o.SessionTimeout:
		return fmt.Errorf("%s %s: must be at least 10ms and below %s", FlagHeartbeatInterval, o.HeartbeatInterval, FlagSessionTimeout)
	case o.AllowedLateness < 0 && o.AllowedLateness != settings.Off:
		return fmt.Errorf("%s %s: must not be negative", FlagLateness, o.AllowedLateness)
	case o.CorrectionHorizon < time.Hour:
		return fmt.Errorf("%s %s: must be at least 1h", FlagCorrection, o.CorrectionHorizon)
	case o.MaxFuture < 0 && o.MaxFuture != settings.Off:
		return fmt.Errorf("%s %s: must not be negative", FlagMaxFuture, o.MaxFuture)
	case o.FlushInterval < 10*time.Millisecond || o.FlushInterval > time.Minute:
		return fmt.Errorf("%s %s: must be between 10ms and 1m", FlagFlushInterval, o.FlushInterval)
	case o.MaxRoundWindows < 1:
		return fmt.Errorf("%s %d: must be positive", FlagMaxRoundWindows, o.MaxRoundWindows)
	case o.ExpiryInterval < time.Second:
		return fmt.Errorf("%s %s: must be at least 1s", FlagExpiryInterval, o.ExpiryInterval)
	case o.MaxPollRecords < 1:
		return fmt.Errorf("%s %d: must be positive", FlagMaxPollRecords, o.MaxPollRecords)
	case o.Workers < 0:
		return fmt.Errorf("%s %d: must not be negative", FlagWorkers, o.Workers)
	case o.HotIdentities < 1000:
		return fmt.Errorf("%s %d: must be at least 1000", FlagHotIdentities, o.HotIdentities)
	case o.StateCacheBytes < 1<<20:
		return fmt.Errorf("%s %d: must be at least 1 MiB", FlagStateCacheBytes, o.StateCacheBytes)
	}
	return nil
}

// workers is the effective Workers setting.
func (o *Options) workers() int {
	if o.Workers == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Workers
}

func (o *Options) rules() *rules {
	return &rules{
		loc:        o.Location,
		lateness:   settings.Duration(o.AllowedLateness).Milliseconds(),
		correction: o.CorrectionHorizon.Milliseconds(),
		maxFuture:  settings.Duration(o.MaxFuture).Milliseconds(),
	}
}
