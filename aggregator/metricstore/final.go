package metricstore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Finalize appends the final documents of windows that can no longer change
// to the time-series collection of g, then marks their live documents
// final (ScheduleLiveExpiry later gives them an expiry). A time-series collection has no unique index, so an
// append retried after a crash is detected by looking the ids up first;
// a partition has one writer at a time (stale writers are stopped by
// WriteLive and SaveCheckpoint), so look-up then insert does not race.
// Running Finalize twice for the same windows is a no-op the second time.
func (s *Store) Finalize(ctx context.Context, g metricdoc.Granularity, docs []metricdoc.Final) error {
	coll := s.coll(g.Collection())
	for start := 0; start < len(docs); start += s.opts.BatchSize {
		batch := docs[start:min(start+s.opts.BatchSize, len(docs))]
		ids := make([]string, len(batch))
		for i := range batch {
			ids[i] = batch[i].ID
		}
		present, err := s.existing(ctx, coll, ids)
		if err != nil {
			return err
		}
		var missing []any
		for i := range batch {
			if !present[batch[i].ID] {
				missing = append(missing, batch[i])
			}
		}
		if len(missing) > 0 {
			_, err := coll.InsertMany(ctx, missing, options.InsertMany().SetOrdered(false))
			if err != nil && !onlyDuplicates(err) {
				return fmt.Errorf("append to %s: %w", g.Collection(), err)
			}
		}
		_, err = s.live().UpdateMany(ctx,
			bson.D{{Key: metricdoc.FieldID, Value: bson.D{{Key: "$in", Value: ids}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: metricdoc.FieldFinal, Value: true}}}})
		if err != nil {
			return fmt.Errorf("mark %s final: %w", metricdoc.CollLive, err)
		}
	}
	return nil
}

func (s *Store) existing(ctx context.Context, coll *mongo.Collection, ids []string) (map[string]bool, error) {
	cur, err := coll.Find(ctx, bson.D{{Key: metricdoc.FieldID, Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: metricdoc.FieldID, Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", coll.Name(), err)
	}
	var found []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &found); err != nil {
		return nil, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	present := make(map[string]bool, len(found))
	for _, f := range found {
		present[f.ID] = true
	}
	return present, nil
}

// onlyDuplicates: on a regular (fallback) collection _id is unique, so a
// retried append reports duplicates, which means it is already there.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}
