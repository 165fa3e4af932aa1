package metricstore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// finalIndexes are the indexes of hourly_metrics and daily_metrics: the
// plugin always bounds window_start and usually filters by app or campaign
// (see grafana-plugin/pkg/pipeline); window_start alone serves expiry and
// unfiltered ranges.
func finalIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: metricdoc.MetaField(metricdoc.DimApp), Value: 1}, {Key: metricdoc.FieldWindowStart, Value: 1}}},
		{Keys: bson.D{{Key: metricdoc.MetaField(metricdoc.DimCampaign), Value: 1}, {Key: metricdoc.FieldWindowStart, Value: 1}}},
		{Keys: bson.D{{Key: metricdoc.MetaField(metricdoc.DimMediaSource), Value: 1}, {Key: metricdoc.FieldWindowStart, Value: 1}}},
		{Keys: bson.D{{Key: metricdoc.FieldWindowStart, Value: 1}}},
	}
}

// liveIndexes serve the reader (granularity + window range, by app) and the
// aggregator's reload of a partition's windows on assignment.
func liveIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: metricdoc.FieldGranularity, Value: 1}, {Key: metricdoc.FieldWindowStart, Value: 1}}},
		{Keys: bson.D{{Key: metricdoc.MetaField(metricdoc.DimApp), Value: 1}, {Key: metricdoc.FieldGranularity, Value: 1}, {Key: metricdoc.FieldWindowStart, Value: 1}}},
		{Keys: bson.D{{Key: metricdoc.FieldPartition, Value: 1}, {Key: metricdoc.FieldWindowEnd, Value: 1}}},
	}
}

// ensureSchema creates the collections and indexes. It asks for
// time-series collections first; a server that refuses (FerretDB,
// DocumentDB) gets regular collections and application-side expiry, which
// is logged once here.
func (s *Store) ensureSchema(ctx context.Context) (Capabilities, error) {
	var caps Capabilities
	ts := 0
	for _, g := range metricdoc.Granularities {
		ok, err := s.createFinal(ctx, g)
		if err != nil {
			return caps, err
		}
		if ok {
			ts++
		}
		if err := s.ensureIndexes(ctx, s.coll(g.Collection()), finalIndexes()); err != nil {
			return caps, err
		}
	}
	caps.TimeSeries = ts == 2
	if ts == 1 {
		s.log.Warn("only one of the final collections is a time-series collection; expiring both from the application",
			"hourly", metricdoc.CollHourly, "daily", metricdoc.CollDaily)
	}

	ttl, err := s.ensureTTL(ctx)
	if err != nil {
		return caps, err
	}
	caps.TTLIndex = ttl
	if err := s.ensureIndexes(ctx, s.live(), liveIndexes()); err != nil {
		return caps, err
	}
	for _, name := range []string{metricdoc.CollCheckpoints, metricdoc.CollFreshness} {
		if err := s.db.CreateCollection(ctx, name); err != nil && !hasCode(err, codeNamespaceExists) {
			return caps, fmt.Errorf("create %s: %w", name, err)
		}
	}
	if !caps.TimeSeries || !caps.TTLIndex {
		s.log.Warn("mongodb lacks time-series collections or TTL indexes; using regular collections and application-side expiry",
			"time_series", caps.TimeSeries, "ttl_index", caps.TTLIndex)
	}
	return caps, nil
}

// createFinal creates the time-series collection of g and reports whether
// it is (or already was) a time-series collection.
func (s *Store) createFinal(ctx context.Context, g metricdoc.Granularity) (bool, error) {
	span := time.Duration(g.Seconds()) * time.Second
	retention := s.opts.HourlyRetention
	if g == metricdoc.Day {
		retention = s.opts.DailyRetention
	}
	opts := options.CreateCollection().
		SetTimeSeriesOptions(options.TimeSeries().
			SetTimeField(metricdoc.FieldWindowStart).
			SetMetaField(metricdoc.FieldMeta).
			SetBucketMaxSpan(span).
			SetBucketRounding(span)).
		SetExpireAfterSeconds(int64(retention / time.Second))
	err := s.db.CreateCollection(ctx, g.Collection(), opts)
	switch {
	case err == nil:
		return true, nil
	case hasCode(err, codeNamespaceExists):
		return s.isTimeSeries(ctx, g.Collection())
	}
	if !Retryable(err) {
		// The server refuses time-series collections: use a regular one.
		if err := s.db.CreateCollection(ctx, g.Collection()); err != nil && !hasCode(err, codeNamespaceExists) {
			return false, fmt.Errorf("create regular %s: %w", g.Collection(), err)
		}
		return false, nil
	}
	return false, fmt.Errorf("create time-series %s: %w", g.Collection(), err)
}

func (s *Store) isTimeSeries(ctx context.Context, name string) (bool, error) {
	specs, err := s.db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: name}})
	if err != nil {
		return false, fmt.Errorf("list collection %s: %w", name, err)
	}
	return len(specs) == 1 && specs[0].Type == "timeseries", nil
}

// ensureTTL creates the TTL index of live_metrics, or a plain index on
// expire_at for the application-side expiry where TTL is not implemented.
func (s *Store) ensureTTL(ctx context.Context) (bool, error) {
	keys := bson.D{{Key: metricdoc.FieldExpireAt, Value: 1}}
	specs, err := s.live().Indexes().ListSpecifications(ctx)
	if err != nil {
		return false, fmt.Errorf("list indexes of %s: %w", metricdoc.CollLive, err)
	}
	for _, sp := range specs {
		if sameKeys(sp.KeysDocument, keys) {
			return sp.ExpireAfterSeconds != nil, nil
		}
	}
	_, err = s.live().Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys, Options: options.Index().SetExpireAfterSeconds(0)})
	switch {
	case err == nil:
		return true, nil
	case hasCode(err, codeNotImplemented):
		if _, err := s.live().Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys}); err != nil {
			return false, fmt.Errorf("create expire_at index of %s: %w", metricdoc.CollLive, err)
		}
		return false, nil
	}
	return false, fmt.Errorf("create ttl index of %s: %w", metricdoc.CollLive, err)
}

// ensureIndexes creates the indexes of want that coll lacks. Asking only
// for missing ones keeps restarts cheap (and FerretDB v1 fails when asked to
// create existing indexes).
func (s *Store) ensureIndexes(ctx context.Context, coll *mongo.Collection, want []mongo.IndexModel) error {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", coll.Name(), err)
	}
	var missing []mongo.IndexModel
	for _, m := range want {
		found := false
		for _, sp := range specs {
			found = found || sameKeys(sp.KeysDocument, m.Keys.(bson.D))
		}
		if !found {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := coll.Indexes().CreateMany(ctx, missing); err != nil {
		return fmt.Errorf("create indexes of %s: %w", coll.Name(), err)
	}
	return nil
}

// sameKeys compares an index's key document with a wanted key list by
// field names and order (directions here are always ascending).
func sameKeys(have bson.Raw, want bson.D) bool {
	els, err := have.Elements()
	if err != nil || len(els) != len(want) {
		return false
	}
	for i, e := range els {
		if e.Key() != want[i].Key {
			return false
		}
	}
	return true
}
