package pipeline

import (
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// OutValue is the name of the summed measure in a pipeline's output.
const OutValue = "value"

// pipeline builds the aggregation over windows starting in [from, to).
func pipeline(q request.Query, from, to time.Time, live bool, timed bool) mongo.Pipeline {
	match := Match(q.Filters, q.Measure)
	if live {
		match = append(match, bson.E{Key: metricdoc.FieldGranularity, Value: string(q.Granularity)})
	}
	match = append(match, bson.E{Key: metricdoc.FieldWindowStart, Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}})

	if !live {
		return finalPipeline(q, match, timed)
	}
	id := bson.D{}
	if timed {
		id = append(id, bson.E{Key: metricdoc.FieldWindowStart, Value: "$" + metricdoc.FieldWindowStart})
	}
	for _, dim := range q.GroupBy {
		id = append(id, bson.E{Key: dim, Value: "$" + metricdoc.MetaField(dim)})
	}
	p := mongo.Pipeline{
		{{Key: "$match", Value: match}},
		{{Key: "$group", Value: bson.D{
			{Key: metricdoc.FieldID, Value: id},
			{Key: OutValue, Value: bson.D{{Key: "$sum", Value: "$" + sumField(q.Measure)}}},
		}}},
	}
	return sorted(p, timed)
}

// finalPipeline reads a time-series collection, where one window (window
// start, meta, partition) may have been appended more than once; the copies
// are identical. The first $group keeps one row per window and its measure
// (copies collapse into it), the second sums those by the query's groups.
// The first stage has no accumulator and the second only $sum, which every
// supported server implements.
func finalPipeline(q request.Query, match bson.D, timed bool) mongo.Pipeline {
	id := bson.D{}
	if timed {
		id = append(id, bson.E{Key: metricdoc.FieldWindowStart, Value: "$" + metricdoc.FieldID + "." + metricdoc.FieldWindowStart})
	}
	for _, dim := range q.GroupBy {
		id = append(id, bson.E{Key: dim, Value: "$" + metricdoc.FieldID + "." + metricdoc.MetaField(dim)})
	}
	p := mongo.Pipeline{
		{{Key: "$match", Value: match}},
		{{Key: "$group", Value: bson.D{
			{Key: metricdoc.FieldID, Value: bson.D{
				{Key: metricdoc.FieldWindowStart, Value: "$" + metricdoc.FieldWindowStart},
				{Key: metricdoc.FieldMeta, Value: "$" + metricdoc.FieldMeta},
				{Key: metricdoc.FieldPartition, Value: "$" + metricdoc.FieldPartition},
				{Key: OutValue, Value: "$" + sumField(q.Measure)},
			}},
		}}},
		{{Key: "$group", Value: bson.D{
			{Key: metricdoc.FieldID, Value: id},
			{Key: OutValue, Value: bson.D{{Key: "$sum", Value: "$" + metricdoc.FieldID + "." + OutValue}}},
		}}},
	}
	return sorted(p, timed)
}

func sorted(p mongo.Pipeline, timed bool) mongo.Pipeline {
	if timed {
		p = append(p, bson.D{{Key: "$sort", Value: bson.D{{Key: metricdoc.FieldID + "." + metricdoc.FieldWindowStart, Value: 1}}}})
	}
	return p
}

// sumField is the stored field the measure sums (events for an unknown one:
// the parser never lets one through).
func sumField(m metricdoc.Measure) string {
	if spec, ok := metricdoc.LookupMeasure(m); ok {
		return spec.Field
	}
	return metricdoc.FieldEvents
}

// Match is the $match on meta for the filters and the measure. Values only
// ever appear inside $in, $nin or $ne: user input never becomes an operator.
// Dimensions come in metricdoc.Dimensions order so pipelines are stable.
func Match(filters map[string][]string, m metricdoc.Measure) bson.D {
	spec, _ := metricdoc.LookupMeasure(m)
	ef := spec.Filter
	var d bson.D
	for _, dim := range metricdoc.Dimensions {
		values, filtered := filters[dim]
		cond := any(nil)
		switch {
		case dim == ef.Dim && !ef.Exclude:
			allowed := []string{ef.Value}
			if filtered && !slices.Contains(values, ef.Value) {
				allowed = []string{}
			}
			cond = bson.D{{Key: "$in", Value: allowed}}
		case dim == ef.Dim && ef.Exclude:
			cond = except(values, filtered, ef.Value)
		case filtered:
			cond = bson.D{{Key: "$in", Value: values}}
		}
		if cond != nil {
			d = append(d, bson.E{Key: metricdoc.MetaField(dim), Value: cond})
		}
	}
	return d
}

// except matches the filter's values without v, or everything but v.
func except(values []string, filtered bool, v string) bson.D {
	if !filtered {
		return bson.D{{Key: "$ne", Value: v}}
	}
	kept := make([]string, 0, len(values))
	for _, x := range values {
		if x != v {
			kept = append(kept, x)
		}
	}
	return bson.D{{Key: "$in", Value: kept}}
}
