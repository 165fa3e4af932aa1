package metricdoc

// QueryType routes a Grafana query to its handler in the plugin.
type QueryType string

// The query types the plugin answers. The frontend mirrors this list.
const (
	QueryMetrics   QueryType = "metrics"
	QueryLag       QueryType = "lag"
	QueryFreshness QueryType = "freshness"
	QueryVariables QueryType = "variables"
	// QueryStorage: per collection document count, sizes and expiry.
	QueryStorage QueryType = "storage"
)

// QueryTypes lists every query type.
var QueryTypes = []QueryType{QueryMetrics, QueryLag, QueryFreshness, QueryVariables, QueryStorage}

// Measure is what a metrics query sums.
type Measure string

// Measures of a metrics query.
const (
	MeasureInstalls   Measure = "installs"    // events with event_name "install"
	MeasureEvents     Measure = "events"      // in-app events (every event that is not an install)
	MeasureRevenue    Measure = "revenue"     // revenue in the event currency (grouped by currency)
	MeasureRevenueUSD Measure = "revenue_usd" // revenue converted to USD by AppsFlyer
)

// Format is the shape of a metrics query result.
type Format string

// Result formats.
const (
	FormatTimeSeries Format = "time_series"
	FormatTable      Format = "table" // one row per group with the range total
)

// GranularityAuto lets the plugin choose hour or day from the interval and
// max data points.
const GranularityAuto = "auto"

// Query is the JSON model of one plugin query (a panel target or an alert
// rule's data node). A key that looks like a misspelling of one of these is
// rejected; other unknown keys are ones Grafana adds to every target (refId,
// datasource, intervalMs, ... and whatever a newer Grafana adds) and ignored.
type Query struct {
	QueryType QueryType `json:"queryType"`

	// metrics
	Measure     Measure             `json:"measure,omitempty"`
	Granularity string              `json:"granularity,omitempty"` // hour, day or auto (default auto)
	Filters     map[string][]string `json:"filters,omitempty"`     // dimension -> allowed values (template variables allowed)
	GroupBy     []string            `json:"groupBy,omitempty"`     // dimensions
	TopN        int                 `json:"topN,omitempty"`        // keep the N largest groups, fold the rest into "other"
	Cumulative  bool                `json:"cumulative,omitempty"`  // running sum over the range ("today so far")
	Format      Format              `json:"format,omitempty"`      // time_series (default) or table

	// lag
	ConsumerGroup string `json:"consumerGroup,omitempty"` // default: the datasource's consumer group
	Topic         string `json:"topic,omitempty"`         // default raw_events

	// variables
	Dimension string `json:"dimension,omitempty"` // which dimension's distinct values
}

// Measures of a lag query (Query.Measure). Empty returns both columns in one
// numeric-long table; naming one returns a single-numeric-column table, the
// shape Grafana alert rules accept without further expressions.
const (
	MeasureLagRecords Measure = "lag_records" // committed offset to end offset
	MeasureLagSeconds Measure = "lag_seconds" // age of the oldest unconsumed record
)

// FormatTimeSeriesLong is a metrics result as one long frame (time, one
// string column per group-by dimension, value) instead of the default wide
// frame with one labelled value field per group.
const FormatTimeSeriesLong Format = "time_series_long"
