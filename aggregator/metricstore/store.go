package metricstore

import (
	"context"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Store writes the aggregator's documents to one MongoDB database.
type Store struct {
	db   *mongo.Database
	opts Options
	log  *slog.Logger
	caps Capabilities
	// updates bounds the update statements of one command (see
	// ferretDBUpdates).
	updates int
}

// ferretDBUpdates bounds the update statements of one command on FerretDB.
// FerretDB v1 keeps the SQLite connection of each statement's query until
// the whole command ends, out of a pool of 100 per database, and needs one
// more for the statement's transaction: writers whose bulk updates together
// hold 100 connections wait for each other forever (three aggregators with
// 50-statement bulk writes did, on the embedded store). 8 statements plus
// the 8 concurrent reads of writeLiveByID leave room for five writers, and
// one writer measured no slower than with 50 (BenchmarkConcurrentWriters).
const ferretDBUpdates = 8

// Capabilities is what schema detection found the server to support.
type Capabilities struct {
	// TimeSeries: hourly_metrics and daily_metrics are time-series
	// collections with expireAfterSeconds. Without it they are regular
	// collections and Expire deletes old windows.
	TimeSeries bool
	// TTLIndex: the live_metrics TTL index exists. Without it Expire deletes
	// expired live documents.
	TTLIndex bool
	// IDFiltersOnly: the server is FerretDB (buildInfo carries
	// ferretdbVersion), whose storage only uses a filter that is exactly
	// {_id: value}; any other filter scans the collection (measured on
	// FerretDB v1.24 with 2000 live documents: 0.4 ms per update by _id,
	// 9 ms with the offset guard). Live writes then check the guard with a
	// read by _id before an update by _id.
	IDFiltersOnly bool
}

// Open prepares the database (collections, indexes, capability detection)
// and returns a store on it. The client stays owned by the caller.
func Open(ctx context.Context, client *mongo.Client, opts Options, log *slog.Logger) (*Store, error) {
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Store{db: client.Database(opts.Database), opts: opts, log: log}
	caps, err := s.ensureSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare mongodb database %s: %w", opts.Database, err)
	}
	ferret := isFerretDB(ctx, s.db)
	caps.IDFiltersOnly = !opts.AtomicLiveWrites && ferret
	s.caps = caps
	s.updates = opts.BatchSize
	if ferret {
		s.updates = min(s.updates, ferretDBUpdates)
	}
	return s, nil
}

// isFerretDB reports whether buildInfo names FerretDB.
func isFerretDB(ctx context.Context, db *mongo.Database) bool {
	var info bson.M
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false
	}
	_, ok := info["ferretdbVersion"]
	return ok
}

// Capabilities returns what the server was found to support.
func (s *Store) Capabilities() Capabilities { return s.caps }

func (s *Store) coll(name string) *mongo.Collection { return s.db.Collection(name) }

func (s *Store) live() *mongo.Collection { return s.coll(metricdoc.CollLive) }
