package plugin

import (
	"context"
	"maps"
	"slices"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/frames"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

func (ds *Datasource) queryVariables(ctx context.Context, q request.Query) (data.Frames, error) {
	values, err := ds.distinct(ctx, q)
	if err != nil {
		return nil, err
	}
	return data.Frames{frames.Variables(values)}, nil
}

// distinct returns the sorted values of q.Dimension, filtered by the other
// dimensions' filters and, when the query has a range, by windows in it.
// Daily finals plus live documents cover every window once per day.
func (ds *Datasource) distinct(ctx context.Context, q request.Query) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, ds.cfg.maxTime)
	defer cancel()
	others := maps.Clone(q.Filters)
	delete(others, q.Dimension)
	filter := pipeline.Match(others, "")
	if !q.From.IsZero() {
		from := metricdoc.WindowStart(metricdoc.Day, q.From, ds.cfg.loc)
		filter = append(filter, bson.E{Key: metricdoc.FieldWindowStart, Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: q.To}}})
	}
	// $group rather than the distinct command: it takes maxTimeMS on
	// every server (FerretDB v1's distinct does not) and has no 16 MB
	// result limit.
	pipeline := mongo.Pipeline{
		{{Key: "$match", Value: filter}},
		{{Key: "$group", Value: bson.D{{Key: metricdoc.FieldID, Value: "$" + metricdoc.MetaField(q.Dimension)}}}},
	}
	seen := map[string]bool{}
	for _, coll := range []string{metricdoc.Day.Collection(), metricdoc.CollLive} {
		cur, err := ds.db.Collection(coll).Aggregate(ctx, pipeline, ds.aggregateOptions())
		if err != nil {
			return nil, downstream("distinct "+q.Dimension+" in "+coll, err)
		}
		for cur.Next(ctx) {
			if v, ok := cur.Current.Lookup(metricdoc.FieldID).StringValueOK(); ok && v != "" {
				seen[v] = true
			}
		}
		err = cur.Err()
		cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, downstream("distinct "+q.Dimension+" in "+coll, err)
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}
