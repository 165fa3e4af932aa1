// Package storeusage reports what the campaignpulse collections occupy in
// MongoDB: document counts, data, storage and index bytes, and how each
// collection expires. The plugin's storage query and `campaignpulse status`
// both read it, so a dashboard panel and the operator's console agree.
//
// Commands sent: listCollections (type and time-series expireAfterSeconds),
// listIndexes (TTL indexes), count (documents: metadata-based and cheap on a
// regular collection; on a time-series collection MongoDB answers it by
// unpacking buckets, because $collStats refuses `count` there) and
// $collStats {storageStats: {}} (sizes). FerretDB answers all four for
// regular collections; it has no time-series collections or TTL indexes, so
// there the expiry of the metric collections is the aggregator's own
// (ExpiryApplication).
package storeusage

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Expiry says who removes old documents of a collection.
type Expiry string

// How a collection expires.
const (
	// ExpiryCollection: a time-series collection's expireAfterSeconds.
	ExpiryCollection Expiry = "collection"
	// ExpiryIndex: a TTL index (expireAfterSeconds on an index key).
	ExpiryIndex Expiry = "ttl_index"
	// ExpiryApplication: the server has no expiry for this metric collection,
	// so the aggregator deletes old documents itself (metricstore.Expire).
	ExpiryApplication Expiry = "application"
	// ExpiryNone: kept until deleted (checkpoints, freshness: one small
	// document per partition or per app and source).
	ExpiryNone Expiry = "none"
)

// Collections are the campaignpulse collections reported, in display order.
var Collections = []string{metricdoc.CollLive, metricdoc.CollHourly, metricdoc.CollDaily, metricdoc.CollCheckpoints, metricdoc.CollFreshness}

// expiredByAggregator are the collections metricstore.Expire deletes from
// where the server lacks time-series collections or TTL indexes.
var expiredByAggregator = []string{metricdoc.CollLive, metricdoc.CollHourly, metricdoc.CollDaily}

// Collection is the usage of one collection.
type Collection struct {
	Name string `json:"name"`
	// Type is "timeseries" or "collection" (listCollections type).
	Type      string `json:"type"`
	Documents int64  `json:"documents"`
	// DataBytes is the uncompressed size of the documents, StorageBytes the
	// space allocated on disk for them, IndexBytes that of every index.
	DataBytes    int64  `json:"dataBytes"`
	StorageBytes int64  `json:"storageBytes"`
	IndexBytes   int64  `json:"indexBytes"`
	Expiry       Expiry `json:"expiry"`
	// ExpireAfterSeconds is the server's setting (collection option or TTL
	// index); nil where the server does not expire the collection.
	ExpireAfterSeconds *int64 `json:"expireAfterSeconds"`
	// ExpiryField is the date field the expiry is measured from (the
	// time-series timeField or the TTL index key); empty without one.
	ExpiryField string `json:"expiryField,omitempty"`
}

// Read reports the campaignpulse collections present in db, in the order of
// Collections; a collection not created yet is left out.
func Read(ctx context.Context, db *mongo.Database) ([]Collection, error) {
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: bson.D{{Key: "$in", Value: Collections}}}})
	if err != nil {
		return nil, fmt.Errorf("list collections of %s: %w", db.Name(), err)
	}
	out := make([]Collection, 0, len(specs))
	for _, name := range Collections {
		i := slices.IndexFunc(specs, func(s mongo.CollectionSpecification) bool { return s.Name == name })
		if i < 0 {
			continue
		}
		c, err := readOne(ctx, db.Collection(name), specs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func readOne(ctx context.Context, coll *mongo.Collection, spec mongo.CollectionSpecification) (Collection, error) {
	c := Collection{Name: spec.Name, Type: spec.Type, Expiry: ExpiryNone}
	if c.Type == "" {
		c.Type = "collection"
	}
	if err := collectionExpiry(&c, spec.Options); err != nil {
		return c, err
	}
	if c.ExpireAfterSeconds == nil {
		if err := indexExpiry(ctx, coll, &c); err != nil {
			return c, err
		}
	}
	if c.ExpireAfterSeconds == nil && slices.Contains(expiredByAggregator, c.Name) {
		c.Expiry = ExpiryApplication
	}
	n, err := coll.EstimatedDocumentCount(ctx)
	if err != nil {
		return c, fmt.Errorf("count %s: %w", c.Name, err)
	}
	c.Documents = n
	stats, err := storageStats(ctx, coll)
	if err != nil {
		return c, err
	}
	c.DataBytes, c.StorageBytes, c.IndexBytes = stats.Size, stats.StorageSize, stats.TotalIndexSize
	return c, nil
}

// collectionExpiry takes expireAfterSeconds and the timeField from a
// time-series collection's listCollections options.
func collectionExpiry(c *Collection, opts bson.Raw) error {
	if len(opts) == 0 {
		return nil
	}
	var o struct {
		ExpireAfterSeconds *int64 `bson:"expireAfterSeconds"`
		TimeSeries         struct {
			TimeField string `bson:"timeField"`
		} `bson:"timeseries"`
	}
	if err := bson.Unmarshal(opts, &o); err != nil {
		return fmt.Errorf("options of %s: %w", c.Name, err)
	}
	if o.ExpireAfterSeconds != nil {
		c.Expiry, c.ExpireAfterSeconds, c.ExpiryField = ExpiryCollection, o.ExpireAfterSeconds, o.TimeSeries.TimeField
	}
	return nil
}

// indexExpiry finds a TTL index of coll.
func indexExpiry(ctx context.Context, coll *mongo.Collection, c *Collection) error {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", c.Name, err)
	}
	for _, sp := range specs {
		if sp.ExpireAfterSeconds == nil {
			continue
		}
		secs := int64(*sp.ExpireAfterSeconds)
		c.Expiry, c.ExpireAfterSeconds = ExpiryIndex, &secs
		if el, err := sp.KeysDocument.IndexErr(0); err == nil {
			c.ExpiryField = el.Key()
		}
		return nil
	}
	return nil
}

// stats is the part of $collStats storageStats used here.
type stats struct {
	Size           int64 `bson:"size"`
	StorageSize    int64 `bson:"storageSize"`
	TotalIndexSize int64 `bson:"totalIndexSize"`
}

func storageStats(ctx context.Context, coll *mongo.Collection) (stats, error) {
	cur, err := coll.Aggregate(ctx, mongo.Pipeline{{{Key: "$collStats", Value: bson.D{{Key: "storageStats", Value: bson.D{}}}}}})
	if err != nil {
		return stats{}, fmt.Errorf("$collStats of %s: %w", coll.Name(), err)
	}
	var docs []struct {
		StorageStats bson.Raw `bson:"storageStats"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return stats{}, fmt.Errorf("$collStats of %s: %w", coll.Name(), err)
	}
	if len(docs) == 0 {
		return stats{}, fmt.Errorf("$collStats of %s: %w", coll.Name(), errors.New("no result"))
	}
	var sum stats
	for _, d := range docs { // one per shard on a sharded cluster
		s, err := decodeStats(d.StorageStats)
		if err != nil {
			return stats{}, fmt.Errorf("$collStats of %s: %w", coll.Name(), err)
		}
		sum.Size += s.Size
		sum.StorageSize += s.StorageSize
		sum.TotalIndexSize += s.TotalIndexSize
	}
	return sum, nil
}

// decodeStats reads sizes that servers send as int32, int64 or double.
func decodeStats(raw bson.Raw) (stats, error) {
	var s stats
	for _, f := range []struct {
		key string
		dst *int64
	}{{"size", &s.Size}, {"storageSize", &s.StorageSize}, {"totalIndexSize", &s.TotalIndexSize}} {
		v, err := raw.LookupErr(f.key)
		if err != nil { // absent: the server does not report it
			continue
		}
		n, ok := v.AsInt64OK()
		if !ok {
			if d, okd := v.DoubleOK(); okd {
				n, ok = int64(d), true
			}
		}
		if !ok {
			return s, fmt.Errorf("storageStats.%s is a %s", f.key, v.Type)
		}
		*f.dst = n
	}
	return s, nil
}
