package request

import (
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Limits on untrusted input.
const (
	MaxValues      = 1000 // values per filter dimension
	MaxValueLength = 512  // bytes per filter value
	MaxTopN        = 1000
)

// AllValue is the value a multi-value variable sends when "All" is chosen
// with the custom all value "$__all": the dimension is not filtered.
const AllValue = "$__all"

// Query is a validated query with every macro expanded.
type Query struct {
	RefID string
	Type  metricdoc.QueryType

	// Metrics.
	Measure     metricdoc.Measure
	Granularity metricdoc.Granularity // resolved: auto is already decided
	Filters     map[string][]string   // known dimensions only, values sorted and unique
	GroupBy     []string
	TopN        int
	Cumulative  bool
	Format      metricdoc.Format

	// Lag.
	ConsumerGroup string
	Topic         string

	// Variables.
	Dimension string

	From, To      time.Time
	Interval      time.Duration
	MaxDataPoints int64
}

// Defaults are the datasource-level values a query may omit.
type Defaults struct {
	ConsumerGroup string // lag queries without consumerGroup
	Topic         string // lag queries without topic; empty: metricdoc.TopicRawEvents
}
