package metricdoc

// Collection names in the campaignpulse database.
const (
	CollLive        = "live_metrics"
	CollHourly      = "hourly_metrics"
	CollDaily       = "daily_metrics"
	CollCheckpoints = "checkpoints"
	CollFreshness   = "freshness"
)

// Kafka topics.
const (
	TopicRawEvents  = "raw_events"
	TopicDLQ        = "raw_events_dlq"
	TopicAggregated = "aggregated_metrics"
	// TopicDedupChangelog holds the aggregator's de-duplication identities
	// with their source offsets: its restorable state.
	TopicDedupChangelog = "dedup_changelog"
)

// Kafka record headers set by ingest on raw_events and by the aggregator on
// raw_events_dlq.
const (
	HeaderSource     = "source"      // "push" or "pull"
	HeaderIngestTime = "ingest_time" // RFC 3339 with milliseconds, UTC
	HeaderDLQReason  = "dlq_reason"  // why the event was rejected
	HeaderDLQOrigin  = "dlq_origin"  // "raw_events/<partition>/<offset>" or "push"
)

// Event sources as carried in HeaderSource and the freshness collection.
const (
	SourcePush = "push"
	SourcePull = "pull"
)

// Granularity of a metric window.
type Granularity string

// The two window sizes the aggregator keeps.
const (
	Hour Granularity = "hour"
	Day  Granularity = "day"
)

// Granularities lists them, hour first, for code that handles both.
var Granularities = [2]Granularity{Hour, Day}

// Collection returns the time-series collection holding final windows of g.
func (g Granularity) Collection() string {
	if g == Day {
		return CollDaily
	}
	return CollHourly
}

// Seconds is the bucket span used for the time-series collection of g
// (bucketMaxSpanSeconds = bucketRoundingSeconds), so TTL drops whole buckets.
func (g Granularity) Seconds() int64 {
	if g == Day {
		return 86400
	}
	return 3600
}

// Valid reports whether g is one of Hour or Day.
func (g Granularity) Valid() bool { return g == Hour || g == Day }
