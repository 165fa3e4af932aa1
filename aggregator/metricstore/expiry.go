package metricstore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Expire deletes what the server's own expiry would have removed where the
// server has none: final windows older than their retention and live
// documents past expire_at. It does nothing on a server with time-series
// collections and TTL indexes. Safe to run from several aggregators.
func (s *Store) Expire(ctx context.Context) (deleted int64, err error) {
	now := s.opts.Now()
	if !s.caps.TimeSeries {
		for _, c := range []struct {
			g   metricdoc.Granularity
			ttl time.Duration
		}{{metricdoc.Hour, s.opts.HourlyRetention}, {metricdoc.Day, s.opts.DailyRetention}} {
			cutoff := now.Add(-c.ttl)
			r, err := s.coll(c.g.Collection()).DeleteMany(ctx, bson.D{{Key: metricdoc.FieldWindowStart, Value: bson.D{{Key: "$lt", Value: cutoff}}}})
			if err != nil {
				return deleted, fmt.Errorf("expire %s: %w", c.g.Collection(), err)
			}
			deleted += r.DeletedCount
		}
	}
	if !s.caps.TTLIndex {
		r, err := s.live().DeleteMany(ctx, bson.D{{Key: metricdoc.FieldExpireAt, Value: bson.D{{Key: "$lt", Value: now}}}})
		if err != nil {
			return deleted, fmt.Errorf("expire %s: %w", metricdoc.CollLive, err)
		}
		deleted += r.DeletedCount
	}
	return deleted, nil
}

// ScheduleLiveExpiry sets expire_at (now + LiveGrace, or now when the grace
// is off) on final live documents that every reader now takes from the
// time-series collections:
// windows starting before the minimum finalized-through time over the
// topic's checkpoints (the split rule of the metricdoc package). Expiring
// them at finalization instead would lose windows from readers while one
// idle partition holds that minimum back.
func (s *Store) ScheduleLiveExpiry(ctx context.Context, topic string) (int64, error) {
	cur, err := s.coll(metricdoc.CollCheckpoints).Find(ctx, bson.D{{Key: "topic", Value: topic}})
	if err != nil {
		return 0, fmt.Errorf("read checkpoints: %w", err)
	}
	var cps []metricdoc.Checkpoint
	if err := cur.All(ctx, &cps); err != nil {
		return 0, fmt.Errorf("read checkpoints: %w", err)
	}
	if len(cps) == 0 {
		return 0, nil
	}
	through := map[metricdoc.Granularity]time.Time{
		metricdoc.Hour: metricdoc.FinalizedThrough(cps, metricdoc.Hour),
		metricdoc.Day:  metricdoc.FinalizedThrough(cps, metricdoc.Day),
	}
	expire := s.opts.Now().Add(settings.Duration(s.opts.LiveGrace))
	var n int64
	for g, t := range through {
		r, err := s.live().UpdateMany(ctx, bson.D{
			{Key: metricdoc.FieldGranularity, Value: g},
			{Key: metricdoc.FieldFinal, Value: true},
			{Key: metricdoc.FieldExpireAt, Value: bson.D{{Key: "$exists", Value: false}}},
			{Key: metricdoc.FieldWindowStart, Value: bson.D{{Key: "$lt", Value: t}}},
		}, bson.D{{Key: "$set", Value: bson.D{{Key: metricdoc.FieldExpireAt, Value: expire}}}})
		if err != nil {
			return n, fmt.Errorf("schedule expiry of %s: %w", metricdoc.CollLive, err)
		}
		n += r.ModifiedCount
	}
	return n, nil
}
