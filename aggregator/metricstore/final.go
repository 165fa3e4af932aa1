package metricstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Finalize appends the final documents of windows that can no longer change
// to the time-series collection of g, then marks their live documents
// final (ScheduleLiveExpiry later gives them an expiry).
//
// A time-series collection has no unique index, so an append cannot be made
// idempotent by the server: windows already present are looked up first
// (through the meta.app_id + window_start index, never by _id, which a
// time-series collection does not index) and only the missing ones are
// inserted, so a retry after a crash appends nothing twice. That look-up
// cannot see an insert the server applies after it (a flush cancelled on
// revoke whose insert was already sent, or a second owner finalizing at the
// same time), so such a race can leave two copies of a window; the copies
// are identical and every reader counts a window key once
// (metricdoc.FinalKey). Running Finalize twice for the same windows is a
// no-op the second time.
func (s *Store) Finalize(ctx context.Context, g metricdoc.Granularity, docs []metricdoc.Final) error {
	coll := s.coll(g.Collection())
	for start := 0; start < len(docs); start += s.opts.BatchSize {
		batch := docs[start:min(start+s.opts.BatchSize, len(docs))]
		present, err := s.finalsPresent(ctx, g, batch)
		if err != nil {
			return err
		}
		var missing []any
		ids := make([]string, len(batch))
		for i := range batch {
			ids[i] = metricdoc.FinalKey(g, &batch[i])
			if !present[ids[i]] {
				missing = append(missing, batch[i])
			}
		}
		if len(missing) > 0 {
			if _, err := coll.InsertMany(ctx, missing, options.InsertMany().SetOrdered(false)); err != nil {
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

// finalsPresent returns the keys of the batch's windows already appended.
// The filter leads with meta.app_id and bounds window_start, the prefix of
// an index of every final collection, and narrows to the batch's partitions.
func (s *Store) finalsPresent(ctx context.Context, g metricdoc.Granularity, batch []metricdoc.Final) (map[string]bool, error) {
	var (
		apps       []string
		parts      []int32
		first, end time.Time
	)
	for i := range batch {
		f := &batch[i]
		if !slices.Contains(apps, f.Meta.AppID) {
			apps = append(apps, f.Meta.AppID)
		}
		if !slices.Contains(parts, f.Partition) {
			parts = append(parts, f.Partition)
		}
		if first.IsZero() || f.WindowStart.Before(first) {
			first = f.WindowStart
		}
		if f.WindowStart.After(end) {
			end = f.WindowStart
		}
	}
	want := make(map[string]bool, len(batch))
	for i := range batch {
		want[metricdoc.FinalKey(g, &batch[i])] = true
	}
	filter := bson.D{
		{Key: metricdoc.MetaField(metricdoc.DimApp), Value: bson.D{{Key: "$in", Value: apps}}},
		{Key: metricdoc.FieldWindowStart, Value: bson.D{{Key: "$gte", Value: first}, {Key: "$lte", Value: end}}},
		{Key: metricdoc.FieldPartition, Value: bson.D{{Key: "$in", Value: parts}}},
	}
	coll := s.coll(g.Collection())
	cur, err := coll.Find(ctx, filter, options.Find().SetProjection(bson.D{
		{Key: metricdoc.FieldWindowStart, Value: 1}, {Key: metricdoc.FieldMeta, Value: 1}, {Key: metricdoc.FieldPartition, Value: 1},
	}))
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", coll.Name(), err)
	}
	var found []metricdoc.Final
	if err := cur.All(ctx, &found); err != nil {
		return nil, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	present := make(map[string]bool, len(found))
	for i := range found {
		if k := metricdoc.FinalKey(g, &found[i]); want[k] {
			present[k] = true
		}
	}
	return present, nil
}

// onlyDuplicates reports whether a bulk write failed only on unique keys
// (live documents and freshness rows have deterministic ids).
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
