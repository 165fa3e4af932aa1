package metricdoc

import (
	"strconv"
	"strings"
	"time"
)

// Field names of metric documents, for building filters and pipelines.
// Dimension fields are nested under Meta: use MetaField(DimCampaign). The
// summed fields are in measures.go, next to the measures that read them.
const (
	FieldID           = "_id"
	FieldGranularity  = "granularity"
	FieldWindowStart  = "window_start"
	FieldWindowEnd    = "window_end"
	FieldMeta         = "meta"
	FieldPartition    = "partition"
	FieldOffset       = "offset"
	FieldFinal        = "final"
	FieldUpdatedAt    = "updated_at"
	FieldExpireAt     = "expire_at"
	FieldLastEventAt  = "last_event_at"
	FieldFirstEventAt = "first_event_at"
)

// Dimension names, as stored under meta and as used in query filters and
// group-by lists.
const (
	DimApp         = "app_id"
	DimMediaSource = "media_source"
	DimCampaign    = "campaign"
	DimPlatform    = "platform"
	DimEventName   = "event_name"
	DimCurrency    = "currency"
)

// Dimensions lists every dimension in its canonical order.
var Dimensions = []string{DimApp, DimMediaSource, DimCampaign, DimPlatform, DimEventName, DimCurrency}

// IsDimension reports whether name is a known dimension.
func IsDimension(name string) bool {
	for _, d := range Dimensions {
		if d == name {
			return true
		}
	}
	return false
}

// MetaField returns the dotted path of a dimension inside a metric document.
func MetaField(dim string) string { return FieldMeta + "." + dim }

// InstallEventName is the event_name of install events (AppsFlyer's own
// value for installs in both push and pull data).
const InstallEventName = "install"

// Meta is the metaField of a metric document: the dimensions of a window.
// Currency is the event_revenue_currency of revenue-bearing events and empty
// otherwise, so revenue is never summed across currencies.
type Meta struct {
	AppID       string `bson:"app_id" json:"app_id"`
	MediaSource string `bson:"media_source" json:"media_source"`
	Campaign    string `bson:"campaign" json:"campaign"`
	Platform    string `bson:"platform" json:"platform"`
	EventName   string `bson:"event_name" json:"event_name"`
	Currency    string `bson:"currency" json:"currency"`
}

// Get returns the value of the named dimension ("" for unknown names).
func (m Meta) Get(dim string) string {
	switch dim {
	case DimApp:
		return m.AppID
	case DimMediaSource:
		return m.MediaSource
	case DimCampaign:
		return m.Campaign
	case DimPlatform:
		return m.Platform
	case DimEventName:
		return m.EventName
	case DimCurrency:
		return m.Currency
	}
	return ""
}

// Live is a document of the live_metrics collection: the running totals of
// one (granularity, window, dimensions) from one Kafka partition of
// raw_events, including that partition's events up to (excluding) Offset.
type Live struct {
	ID          string      `bson:"_id"`
	Granularity Granularity `bson:"granularity"`
	WindowStart time.Time   `bson:"window_start"`
	WindowEnd   time.Time   `bson:"window_end"`
	Meta        Meta        `bson:"meta"`
	Partition   int32       `bson:"partition"`
	Totals      `bson:",inline"`
	Offset      int64      `bson:"offset"`
	Final       bool       `bson:"final"`
	UpdatedAt   time.Time  `bson:"updated_at"`
	ExpireAt    *time.Time `bson:"expire_at,omitempty"`
}

// Final is a document of hourly_metrics / daily_metrics: the final totals of
// one (window, dimensions, partition). It has no key of its own (the server
// assigns _id): a time-series collection has no unique index, so an append
// raced by a cancelled-but-applied insert or a second owner can leave two
// identical copies, and readers count each (window, meta, partition) once
// (see FinalKey).
type Final struct {
	WindowStart time.Time `bson:"window_start"`
	Meta        Meta      `bson:"meta"`
	Partition   int32     `bson:"partition"`
	Totals      `bson:",inline"`
}

// FinalKey identifies a final document's window: copies with the same key
// are the same window appended more than once and hold the same totals.
func FinalKey(g Granularity, f *Final) string {
	return LiveID(g, f.WindowStart, f.Meta, f.Partition)
}

// LiveID is the deterministic _id of a live document.
func LiveID(g Granularity, windowStart time.Time, m Meta, partition int32) string {
	var b strings.Builder
	b.Grow(96)
	b.WriteString(string(g))
	b.WriteByte('|')
	b.WriteString(strconv.FormatInt(windowStart.Unix(), 10))
	for _, v := range [...]string{m.AppID, m.MediaSource, m.Campaign, m.Platform, m.EventName, m.Currency} {
		b.WriteByte('|')
		b.WriteString(v)
	}
	b.WriteString("|p")
	b.WriteString(strconv.FormatInt(int64(partition), 10))
	return b.String()
}

// Checkpoint is a document of the checkpoints collection: the durable
// position of one raw_events partition.
type Checkpoint struct {
	ID        string    `bson:"_id"` // "<topic>/<partition>"
	Topic     string    `bson:"topic"`
	Partition int32     `bson:"partition"`
	Offset    int64     `bson:"offset"`    // next offset to process
	Watermark time.Time `bson:"watermark"` // max event time seen minus allowed lateness
	// FinalizedHour / FinalizedDay: every window of that granularity that
	// starts before this time has been appended to its time-series collection.
	FinalizedHour time.Time `bson:"finalized_hour"`
	FinalizedDay  time.Time `bson:"finalized_day"`
	UpdatedAt     time.Time `bson:"updated_at"`
	// TimeZone is the IANA zone of the aggregator's day windows, so that a
	// reader (the plugin's health check) can tell when its own zone differs.
	TimeZone string `bson:"time_zone,omitempty"`
	// Counted, Duplicates, TooLate and DeadLettered count the partition's
	// records before Offset by outcome, so the accounting identity
	// (records = counted + duplicates + too_late + dead_lettered) survives
	// restarts and rebalances.
	Counted      int64 `bson:"counted"`
	Duplicates   int64 `bson:"duplicates"`
	TooLate      int64 `bson:"too_late"`
	DeadLettered int64 `bson:"dead_lettered"`
	// Skipped counts the offsets before Offset that hold no event: the
	// markers of transactions and the records of aborted ones, which a
	// read_committed consumer never sees.
	Skipped int64 `bson:"skipped"`
	// Lost counts offsets before Offset whose records the topic's retention
	// deleted before they were processed: reported loudly (log, metric),
	// never counted. Offset = outcomes + skipped + lost.
	Lost int64 `bson:"lost"`
}

// CheckpointID is the _id of the checkpoint of a topic partition.
func CheckpointID(topic string, partition int32) string {
	return topic + "/" + strconv.FormatInt(int64(partition), 10)
}

// Freshness is a document of the freshness collection: the newest event the
// aggregator counted per app and source.
type Freshness struct {
	ID          string    `bson:"_id"` // "<app_id>|<source>"
	AppID       string    `bson:"app_id"`
	Source      string    `bson:"source"`
	LastEventAt time.Time `bson:"last_event_at"` // newest event_time seen
	LastIngest  time.Time `bson:"last_ingest_at"`
	UpdatedAt   time.Time `bson:"updated_at"`
}

// Update is one message of the aggregated_metrics topic: the current totals
// of one (granularity, window, dimensions) from one partition, after a flush.
// The Kafka key is Key(); a follower keeps the newest Update per
// (Key, Partition) and sums over partitions to get a window's total, without
// reading MongoDB.
type Update struct {
	Granularity Granularity `json:"granularity"`
	WindowStart time.Time   `json:"window_start"`
	WindowEnd   time.Time   `json:"window_end"`
	Meta        Meta        `json:"meta"`
	Partition   int32       `json:"partition"`
	Totals
	Offset    int64     `json:"offset"`
	Final     bool      `json:"final"` // the watermark has passed the window's end
	UpdatedAt time.Time `json:"updated_at"`
}

// Key is the Kafka key of an Update: the window and its dimensions without
// the partition, so all partials of a window land on one partition.
func (u *Update) Key() string {
	id := LiveID(u.Granularity, u.WindowStart, u.Meta, 0)
	return id[:len(id)-3]
}

// Finalized returns the finalized-through time of g in this checkpoint.
func (c *Checkpoint) Finalized(g Granularity) time.Time {
	if g == Day {
		return c.FinalizedDay
	}
	return c.FinalizedHour
}

// FinalizedThrough is the split rule of the package doc: the minimum
// finalized-through time of g over cps. Windows starting before it are read
// from the time-series collection, the others from live_metrics. Zero when
// cps is empty.
func FinalizedThrough(cps []Checkpoint, g Granularity) time.Time {
	var through time.Time
	for i := range cps {
		if t := cps[i].Finalized(g); i == 0 || t.Before(through) {
			through = t
		}
	}
	return through
}
