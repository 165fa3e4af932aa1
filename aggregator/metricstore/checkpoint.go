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

// LoadCheckpoint returns the checkpoint of a partition; found is false for
// a partition never checkpointed.
func (s *Store) LoadCheckpoint(ctx context.Context, topic string, partition int32) (cp metricdoc.Checkpoint, found bool, err error) {
	err = s.coll(metricdoc.CollCheckpoints).FindOne(ctx, bson.D{{Key: metricdoc.FieldID, Value: metricdoc.CheckpointID(topic, partition)}}).Decode(&cp)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return metricdoc.Checkpoint{}, false, nil
	}
	if err != nil {
		return cp, false, fmt.Errorf("load checkpoint %s/%d: %w", topic, partition, err)
	}
	return cp, true, nil
}

// SaveCheckpoint stores cp unless the stored checkpoint is further along, in
// which case it returns ErrStaleCheckpoint. Every live document the caller
// changed must be written before, so the checkpoint never claims more than
// the documents hold.
func (s *Store) SaveCheckpoint(ctx context.Context, cp metricdoc.Checkpoint) error {
	cp.ID = metricdoc.CheckpointID(cp.Topic, cp.Partition)
	doc, err := bson.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	var set bson.D
	if err := bson.Unmarshal(doc, &set); err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	set = set[1:] // _id is the filter
	_, err = s.coll(metricdoc.CollCheckpoints).UpdateOne(ctx,
		bson.D{{Key: metricdoc.FieldID, Value: cp.ID}, {Key: metricdoc.FieldOffset, Value: bson.D{{Key: "$lte", Value: cp.Offset}}}},
		bson.D{{Key: "$set", Value: set}},
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("save checkpoint %s at offset %d: %w", cp.ID, cp.Offset, ErrStaleCheckpoint)
	}
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", cp.ID, err)
	}
	return nil
}
