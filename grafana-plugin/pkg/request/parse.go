package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/macro"
)

// wire is the JSON of a query: the contract's model plus the fields
// Grafana adds to every target. Other keys are sorted by ownKeys.
type wire struct {
	metricdoc.Query
	// Filters shadows the contract's field so that each dimension's value
	// can be checked (and a single string accepted) with a precise message.
	Filters map[string]json.RawMessage `json:"filters,omitempty"`

	RefID         string          `json:"refId"`
	Datasource    json.RawMessage `json:"datasource"`
	DatasourceID  int64           `json:"datasourceId"`
	IntervalMs    float64         `json:"intervalMs"`
	MaxDataPoints int64           `json:"maxDataPoints"`
	Hide          bool            `json:"hide"`
	Key           string          `json:"key"`
	// QueryCachingTTL is sent by Grafana versions with query caching.
	QueryCachingTTL int64 `json:"queryCachingTTL"`
	// Live is the frontend's flag to answer a metrics query over Grafana
	// Live (RunStream) instead of QueryData; the backend accepts and ignores it.
	Live bool `json:"live"`
}

// Parse decodes and validates one Grafana query.
func Parse(dq backend.DataQuery, d Defaults) (Query, error) {
	var w wire
	if len(bytes.TrimSpace(dq.JSON)) > 0 {
		js, err := ownKeys(dq.JSON)
		if err != nil {
			return Query{}, err
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			return Query{}, decodeError(err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return Query{}, badf("query JSON has trailing data after the object")
		}
	}
	q := Query{
		RefID:         dq.RefID,
		Type:          w.QueryType,
		From:          dq.TimeRange.From,
		To:            dq.TimeRange.To,
		Interval:      dq.Interval,
		MaxDataPoints: dq.MaxDataPoints,
	}
	if q.Type == "" {
		q.Type = metricdoc.QueryType(dq.QueryType)
	}
	if q.Type == "" {
		q.Type = metricdoc.QueryMetrics
	}
	if q.Interval <= 0 && w.IntervalMs > 0 {
		q.Interval = time.Duration(w.IntervalMs * float64(time.Millisecond))
	}
	if q.MaxDataPoints <= 0 {
		q.MaxDataPoints = w.MaxDataPoints
	}
	mc := macro.Context{From: q.From, To: q.To, Interval: q.Interval}

	var extra []string
	if q.Type == metricdoc.QueryFreshness {
		extra = []string{FilterSource}
	}
	filters, err := parseFilters(w.Filters, mc, extra...)
	if err != nil {
		return Query{}, err
	}
	q.Filters = filters

	switch q.Type {
	case metricdoc.QueryMetrics:
		err = q.metrics(w.Query, mc)
	case metricdoc.QueryVariables:
		err = q.variables(w.Query, mc)
	case metricdoc.QueryLag:
		err = q.lag(w.Query, mc, d)
	case metricdoc.QueryFreshness:
		err = q.freshness(w.Query)
	case metricdoc.QueryStorage:
		err = q.storage(w.Query)
	default:
		err = badf("queryType %q is not one of metrics, lag, freshness, variables, storage", q.Type)
	}
	if err != nil {
		return Query{}, err
	}
	return q, nil
}

// decodeError rewrites encoding/json's messages so the user sees which
// field is wrong.
func decodeError(err error) error {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return badf("unknown query field %s (allowed: queryType, measure, granularity, filters, groupBy, topN, cumulative, format, consumerGroup, topic, dimension)", f)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return badf("query field %q must be of type %s, not a JSON %s", strings.TrimPrefix(te.Field, "Query."), te.Type, te.Value)
	}
	return badf("query is not valid JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func (q *Query) checkRange() error {
	if q.From.IsZero() || q.To.IsZero() {
		return badf("time range is missing")
	}
	if !q.From.Before(q.To) {
		return badf("time range is empty: from %s is not before to %s", q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339))
	}
	return nil
}

func (q *Query) metrics(w metricdoc.Query, mc macro.Context) error {
	if err := q.checkRange(); err != nil {
		return err
	}
	q.Measure = w.Measure
	if q.Measure == "" {
		q.Measure = metricdoc.MeasureTable[0].Name
	}
	spec, ok := metricdoc.LookupMeasure(q.Measure)
	if !ok {
		return badf("measure %q is not one of %s", w.Measure, measureList())
	}
	g := macro.Expand(w.Granularity, mc)
	switch g {
	case "", metricdoc.GranularityAuto:
		q.Granularity = Auto(q.To.Sub(q.From), q.Interval, q.MaxDataPoints)
	case string(metricdoc.Hour), string(metricdoc.Day):
		q.Granularity = metricdoc.Granularity(g)
	default:
		return badf("granularity %q is not one of hour, day, auto", g)
	}
	seen := map[string]bool{}
	for _, dim := range w.GroupBy {
		dim = macro.Expand(dim, mc)
		if err := checkDimension("groupBy", dim); err != nil {
			return err
		}
		if seen[dim] {
			return badf("groupBy lists %q twice", dim)
		}
		seen[dim] = true
		q.GroupBy = append(q.GroupBy, dim)
	}
	if spec.SplitBy != "" && !seen[spec.SplitBy] {
		// Revenue in different currencies never adds up.
		q.GroupBy = append(q.GroupBy, spec.SplitBy)
	}
	if w.TopN < 0 || w.TopN > MaxTopN {
		return badf("topN %d is out of range 0..%d", w.TopN, MaxTopN)
	}
	q.TopN = w.TopN
	q.Cumulative = w.Cumulative
	switch w.Format {
	case "":
		q.Format = metricdoc.FormatTimeSeries
	case metricdoc.FormatTimeSeries, metricdoc.FormatTimeSeriesLong, metricdoc.FormatTable:
		q.Format = w.Format
	default:
		return badf("format %q is not one of time_series, time_series_long, table", w.Format)
	}
	return q.rejectOthers(w, "consumerGroup", w.ConsumerGroup, "topic", w.Topic, "dimension", w.Dimension)
}

func (q *Query) variables(w metricdoc.Query, mc macro.Context) error {
	if !q.From.IsZero() || !q.To.IsZero() {
		if err := q.checkRange(); err != nil {
			return err
		}
	}
	q.Dimension = macro.Expand(w.Dimension, mc)
	if q.Dimension == "" {
		return badf("dimension is required for a variables query (one of %s)", strings.Join(metricdoc.Dimensions, ", "))
	}
	if err := checkDimension("dimension", q.Dimension); err != nil {
		return err
	}
	return q.rejectOthers(w, "consumerGroup", w.ConsumerGroup, "topic", w.Topic, "measure", string(w.Measure))
}

func (q *Query) lag(w metricdoc.Query, mc macro.Context, d Defaults) error {
	q.ConsumerGroup = macro.Expand(w.ConsumerGroup, mc)
	if q.ConsumerGroup == "" {
		q.ConsumerGroup = d.ConsumerGroup
	}
	if q.ConsumerGroup == "" {
		return badf("consumerGroup is empty and the datasource has no kafkaConsumerGroup")
	}
	if len(q.ConsumerGroup) > 255 || macro.Contains(q.ConsumerGroup) {
		return badf("consumerGroup %q is not a valid consumer group name", q.ConsumerGroup)
	}
	q.Topic = macro.Expand(w.Topic, mc)
	if q.Topic == "" {
		q.Topic = d.Topic
	}
	if q.Topic == "" {
		q.Topic = metricdoc.TopicRawEvents
	}
	if !validTopic(q.Topic) {
		return badf("topic %q is not a valid Kafka topic name ([a-zA-Z0-9._-], at most 249 characters)", q.Topic)
	}
	switch w.Measure {
	case "", metricdoc.MeasureLagRecords, metricdoc.MeasureLagSeconds:
		q.Measure = w.Measure
	default:
		return badf("measure %q is not valid for lag (use lag_records, lag_seconds or leave it empty for both)", w.Measure)
	}
	if len(q.Filters) > 0 {
		return badf("filters are not used by lag queries")
	}
	return q.rejectOthers(w, "dimension", w.Dimension)
}

func (q *Query) freshness(w metricdoc.Query) error {
	for dim, values := range q.Filters {
		switch dim {
		case metricdoc.DimApp:
		case FilterSource:
			for _, v := range values {
				if v != metricdoc.SourcePush && v != metricdoc.SourcePull {
					return badf("filters.%s value %q is not %s or %s", FilterSource, v, metricdoc.SourcePush, metricdoc.SourcePull)
				}
			}
		default:
			return badf("freshness queries filter only by %s and %s, not %s", metricdoc.DimApp, FilterSource, dim)
		}
	}
	return q.rejectOthers(w, "consumerGroup", w.ConsumerGroup, "topic", w.Topic, "dimension", w.Dimension, "measure", string(w.Measure))
}

// storage takes no parameters: it reports every campaignpulse collection.
func (q *Query) storage(w metricdoc.Query) error {
	if len(q.Filters) > 0 {
		return badf("filters are not used by storage queries")
	}
	return q.rejectOthers(w, "consumerGroup", w.ConsumerGroup, "topic", w.Topic, "dimension", w.Dimension, "measure", string(w.Measure))
}

// rejectOthers fails when a field that the query type does not use is set,
// so a mistyped query type is not silently answered with something else.
func (q *Query) rejectOthers(w metricdoc.Query, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			return badf("%s is not used by %s queries", pairs[i], q.Type)
		}
	}
	if q.Type != metricdoc.QueryMetrics {
		switch {
		case len(w.GroupBy) > 0:
			return badf("groupBy is not used by %s queries", q.Type)
		case w.TopN != 0:
			return badf("topN is not used by %s queries", q.Type)
		case w.Granularity != "":
			return badf("granularity is not used by %s queries", q.Type)
		case w.Format != "":
			return badf("format is not used by %s queries", q.Type)
		case w.Cumulative:
			return badf("cumulative is not used by %s queries", q.Type)
		}
	}
	return nil
}

func validTopic(t string) bool {
	if t == "" || len(t) > 249 || t == "." || t == ".." {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Auto picks hour windows unless the panel asks for an interval of a day or
// more, or the range holds more hours than the panel can draw points.
func Auto(rng, interval time.Duration, maxDataPoints int64) metricdoc.Granularity {
	if interval >= 24*time.Hour {
		return metricdoc.Day
	}
	if maxDataPoints > 0 && int64(rng/time.Hour) > maxDataPoints {
		return metricdoc.Day
	}
	return metricdoc.Hour
}

// wireKeys are the JSON keys of the query model and of the fields Grafana
// is known to add to targets; both are decoded strictly. modelKeys are the
// model's alone: near-misses of those are mistakes.
var (
	wireKeys  = jsonKeys(reflect.TypeFor[wire]())
	modelKeys = append(jsonKeys(reflect.TypeFor[metricdoc.Query]()), "live")
)

func jsonKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if f.Anonymous {
			keys = append(keys, jsonKeys(f.Type)...)
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" && !slices.Contains(keys, name) {
			keys = append(keys, name)
		}
	}
	return keys
}

// ownKeys returns the query JSON without the keys that belong to neither our
// model nor the list Grafana is known to send. A key that looks like one of
// ours (same letters up to case, '_' and '-', or one or two edits away) is a
// mistake in our model and rejected; any other key is one a newer Grafana
// adds to every target, and ignoring it keeps panels and alert rules working
// across Grafana upgrades.
func ownKeys(js []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(js, &obj); err != nil {
		return js, nil // the strict decoder reports it with its position
	}
	foreign := false
	for k := range obj {
		if slices.Contains(wireKeys, k) {
			continue
		}
		if like := lookalike(k); like != "" {
			return nil, badf("unknown query field %q (did you mean %q?)", k, like)
		}
		delete(obj, k)
		foreign = true
	}
	if !foreign {
		return js, nil
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, badf("query is not valid JSON: %v", err)
	}
	return out, nil
}

// lookalike returns the model key that k is probably a misspelling of.
func lookalike(k string) string {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '_' || r == '-' {
				return -1
			}
			return unicode.ToLower(r)
		}, s)
	}
	nk := norm(k)
	for _, m := range modelKeys {
		nm := norm(m)
		limit := 0 // short keys: only case, '_' and '-' differ
		switch {
		case len(nm) >= 8:
			limit = 2
		case len(nm) >= 5:
			limit = 1
		}
		if nk == nm || editDistance(nk, nm) <= limit {
			return m
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of two short ASCII-ish keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// measureList names the measures of the table for messages.
func measureList() string {
	names := make([]string, len(metricdoc.MeasureTable))
	for i, m := range metricdoc.MeasureTable {
		names[i] = string(m.Name)
	}
	return strings.Join(names, ", ")
}
