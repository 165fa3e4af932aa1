package metricstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// WriteLive stores the absolute totals of docs in live_metrics. Each update
// only applies if the stored document includes no more of the partition
// than the new one (offset <= doc.Offset), so a writer that fell behind (a
// consumer replaying after a crash, a zombie after a rebalance) never
// overwrites newer totals: its upsert then collides on _id. The ids of
// those stale documents are returned; the caller should adopt the stored
// documents (GetLive) instead of its own.
func (s *Store) WriteLive(ctx context.Context, docs []metricdoc.Live) (stale []string, err error) {
	if s.caps.IDFiltersOnly {
		return s.writeLiveByID(ctx, docs)
	}
	for start := 0; start < len(docs); start += s.updates {
		batch := docs[start:min(start+s.updates, len(docs))]
		st, err := s.writeLiveBatch(ctx, batch)
		stale = append(stale, st...)
		if err != nil {
			return stale, err
		}
	}
	return stale, nil
}

func (s *Store) writeLiveBatch(ctx context.Context, batch []metricdoc.Live) ([]string, error) {
	models := make([]mongo.WriteModel, len(batch))
	for i := range batch {
		models[i] = liveUpdate(&batch[i])
	}
	_, err := s.live().BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	if !onlyDuplicates(err) {
		return nil, fmt.Errorf("write %s: %w", metricdoc.CollLive, err)
	}
	// Some writes were stale. Servers differ in how they report which
	// (FerretDB gives every error index 0 and may stop early), so redo the
	// batch one document at a time: the updates are idempotent.
	var stale []string
	for i, m := range models {
		u := m.(*mongo.UpdateOneModel)
		_, err := s.live().UpdateOne(ctx, u.Filter, u.Update, options.UpdateOne().SetUpsert(true))
		switch {
		case mongo.IsDuplicateKeyError(err):
			stale = append(stale, batch[i].ID)
		case err != nil:
			return stale, fmt.Errorf("write %s: %w", metricdoc.CollLive, err)
		}
	}
	return stale, nil
}

// writeLiveByID is WriteLive for servers that only index {_id: v} filters
// (FerretDB): the offset guard is read by _id, then the document is written
// by _id. A writer racing in between could still overwrite newer totals;
// only the atomic guarded update (real MongoDB) closes that gap, so this path
// is for the test stand-in and the embedded demo, where one process owns a
// partition.
//
// The reads go out liveReaders at a time and the writes as unordered bulk
// writes of s.updates: a flush costs round trips per batch, not per
// document. Batched reads ({_id: {$in: ...}}) are not used: FerretDB cannot
// push $in down and scans the collection for them.
func (s *Store) writeLiveByID(ctx context.Context, docs []metricdoc.Live) (stale []string, err error) {
	offsets, err := s.liveOffsets(ctx, docs)
	if err != nil {
		return nil, err
	}
	models := make([]mongo.WriteModel, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		if off, found := offsets[i]; found && off > d.Offset {
			stale = append(stale, d.ID)
			continue
		}
		u := liveUpdate(d).(*mongo.UpdateOneModel)
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: metricdoc.FieldID, Value: d.ID}}).SetUpdate(u.Update).SetUpsert(true))
	}
	for start := 0; start < len(models); start += s.updates {
		batch := models[start:min(start+s.updates, len(models))]
		if _, err := s.live().BulkWrite(ctx, batch, options.BulkWrite().SetOrdered(false)); err != nil {
			return stale, fmt.Errorf("write %s: %w", metricdoc.CollLive, err)
		}
	}
	return stale, nil
}

// liveReaders bounds the concurrent reads of writeLiveByID.
const liveReaders = 8

// liveOffsets reads the stored offset of each document, by _id; a missing
// document has no entry.
func (s *Store) liveOffsets(ctx context.Context, docs []metricdoc.Live) (map[int]int64, error) {
	var (
		mu  sync.Mutex
		out = make(map[int]int64, len(docs))
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(liveReaders)
	for i := range docs {
		g.Go(func() error {
			var cur struct {
				Offset int64 `bson:"offset"`
			}
			err := s.live().FindOne(gctx, bson.D{{Key: metricdoc.FieldID, Value: docs[i].ID}},
				options.FindOne().SetProjection(bson.D{{Key: metricdoc.FieldOffset, Value: 1}})).Decode(&cur)
			switch {
			case errors.Is(err, mongo.ErrNoDocuments):
				return nil
			case err != nil:
				return fmt.Errorf("read %s: %w", metricdoc.CollLive, err)
			}
			mu.Lock()
			out[i] = cur.Offset
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

func liveUpdate(d *metricdoc.Live) mongo.WriteModel {
	set := bson.D{
		{Key: metricdoc.FieldGranularity, Value: d.Granularity},
		{Key: metricdoc.FieldWindowStart, Value: d.WindowStart},
		{Key: metricdoc.FieldWindowEnd, Value: d.WindowEnd},
		{Key: metricdoc.FieldMeta, Value: d.Meta},
		{Key: metricdoc.FieldPartition, Value: d.Partition},
	}
	for _, f := range metricdoc.StoredFields {
		set = append(set, bson.E{Key: f.Name, Value: f.Value(d.Totals)})
	}
	set = append(set,
		bson.E{Key: metricdoc.FieldOffset, Value: d.Offset},
		bson.E{Key: metricdoc.FieldFinal, Value: d.Final},
		bson.E{Key: metricdoc.FieldUpdatedAt, Value: d.UpdatedAt},
	)
	if d.ExpireAt != nil {
		set = append(set, bson.E{Key: metricdoc.FieldExpireAt, Value: *d.ExpireAt})
	}
	return mongo.NewUpdateOneModel().
		SetFilter(bson.D{{Key: metricdoc.FieldID, Value: d.ID}, {Key: metricdoc.FieldOffset, Value: bson.D{{Key: "$lte", Value: d.Offset}}}}).
		SetUpdate(bson.D{{Key: "$set", Value: set}}).
		SetUpsert(true)
}

// LoadLive returns the live documents of a partition whose window ends
// after endAfter: every window that can still receive an event, including
// ones already marked final whose checkpoint was not written yet.
func (s *Store) LoadLive(ctx context.Context, partition int32, endAfter time.Time) ([]metricdoc.Live, error) {
	filter := bson.D{
		{Key: metricdoc.FieldPartition, Value: partition},
		{Key: metricdoc.FieldWindowEnd, Value: bson.D{{Key: "$gt", Value: endAfter}}},
	}
	return s.findLive(ctx, filter)
}

// GetLive returns the stored live documents with the given ids.
func (s *Store) GetLive(ctx context.Context, ids []string) ([]metricdoc.Live, error) {
	return s.findLive(ctx, bson.D{{Key: metricdoc.FieldID, Value: bson.D{{Key: "$in", Value: ids}}}})
}

func (s *Store) findLive(ctx context.Context, filter bson.D) ([]metricdoc.Live, error) {
	cur, err := s.live().Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", metricdoc.CollLive, err)
	}
	var docs []metricdoc.Live
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read %s: %w", metricdoc.CollLive, err)
	}
	return docs, nil
}
