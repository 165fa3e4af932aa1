package metricstore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// UpsertFreshness raises the newest event and ingest times per (app, source).
// Several partitions write the same documents, so times only move forward
// ($max) and a concurrent first insert is retried once.
func (s *Store) UpsertFreshness(ctx context.Context, docs []metricdoc.Freshness) error {
	for start := 0; start < len(docs); start += s.updates {
		batch := docs[start:min(start+s.updates, len(docs))]
		models := make([]mongo.WriteModel, len(batch))
		for i, f := range batch {
			id := f.AppID + "|" + f.Source
			models[i] = mongo.NewUpdateOneModel().
				SetFilter(bson.D{{Key: metricdoc.FieldID, Value: id}}).
				SetUpdate(bson.D{
					{Key: "$max", Value: bson.D{{Key: metricdoc.FieldLastEventAt, Value: f.LastEventAt}, {Key: "last_ingest_at", Value: f.LastIngest}, {Key: metricdoc.FieldUpdatedAt, Value: f.UpdatedAt}}},
					{Key: "$set", Value: bson.D{{Key: "app_id", Value: f.AppID}, {Key: "source", Value: f.Source}}},
				}).
				SetUpsert(true)
		}
		var err error
		for try := 0; try < 2; try++ {
			if _, err = s.coll(metricdoc.CollFreshness).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err == nil || !onlyDuplicates(err) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", metricdoc.CollFreshness, err)
		}
	}
	return nil
}
