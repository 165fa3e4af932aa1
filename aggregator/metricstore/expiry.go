package metricstore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
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
