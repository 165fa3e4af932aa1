package plugin

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// finalizedThrough is the time before which every window of g is in the
// time-series collection for every partition: the minimum over all
// checkpoints (one per consumed partition, whatever the topic is named).
// Zero when there are no checkpoints yet.
func (ds *Datasource) finalizedThrough(ctx context.Context, g metricdoc.Granularity) (time.Time, error) {
	cps, err := ds.checkpoints(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return metricdoc.FinalizedThrough(cps, g), nil
}

// plan reads how far q's granularity is finalized and plans q against it:
// the windows before that come from the time-series collection, the rest
// from live_metrics. QueryData and the stream's seed share it, so both read
// the same documents.
func (ds *Datasource) plan(ctx context.Context, q request.Query) (pipeline.Plan, time.Time, error) {
	fin, err := ds.finalizedThrough(ctx, q.Granularity)
	if err != nil {
		return pipeline.Plan{}, time.Time{}, err
	}
	plan, err := pipeline.NewPlan(q, fin, ds.cfg.loc)
	if err != nil {
		return pipeline.Plan{}, time.Time{}, request.Errorf("%v", err)
	}
	return plan, fin, nil
}

// checkpoints reads the aggregator's checkpoint of every partition.
func (ds *Datasource) checkpoints(ctx context.Context) ([]metricdoc.Checkpoint, error) {
	return readAll[metricdoc.Checkpoint](ctx, ds, metricdoc.CollCheckpoints, "checkpoints")
}

// readAll reads every document of coll, a collection small enough to be
// read whole (one document per partition or per app and source), within
// the query time limit. what names it in the error.
func readAll[T any](ctx context.Context, ds *Datasource, coll, what string) ([]T, error) {
	ctx, cancel := context.WithTimeout(ctx, ds.cfg.maxTime)
	defer cancel()
	cur, err := ds.db.Collection(coll).Find(ctx, bson.D{})
	if err != nil {
		return nil, downstream("read "+what, err)
	}
	var docs []T
	if err := cur.All(ctx, &docs); err != nil {
		return nil, downstream("read "+what, err)
	}
	return docs, nil
}

// aggregate runs a planned pipeline. The context deadline makes the driver
// send maxTimeMS, so the server stops a runaway query too.
func (ds *Datasource) aggregate(ctx context.Context, part pipeline.Part, groupBy []string, timed bool) ([]pipeline.Row, error) {
	ctx, cancel := context.WithTimeout(ctx, ds.cfg.maxTime)
	defer cancel()
	cur, err := ds.db.Collection(part.Collection).Aggregate(ctx, part.Pipeline, ds.aggregateOptions())
	if err != nil {
		return nil, downstream("aggregate "+part.Collection, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var rows []pipeline.Row
	for cur.Next(ctx) {
		r, err := pipeline.DecodeRow(cur.Current, groupBy, timed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", part.Collection, err)
		}
		rows = append(rows, r)
	}
	if err := cur.Err(); err != nil {
		return nil, downstream("aggregate "+part.Collection, err)
	}
	return rows, nil
}

// aggregateOptions bounds an aggregation on the server too. The driver
// never derives maxTimeMS for cursor-returning commands (DRIVERS-2722), so
// it is set explicitly; the context deadline bounds the client side.
func (ds *Datasource) aggregateOptions() *options.AggregateOptionsBuilder {
	return options.Aggregate().SetComment(clientName).SetCustom(bson.M{"maxTimeMS": ds.cfg.MongoMaxTimeMS})
}
