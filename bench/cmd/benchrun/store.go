package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// dbName is the MongoDB database of one aggregator run.
func dbName(run string) string {
	return "bench_" + strings.NewReplacer("-", "_", ".", "_").Replace(run)
}

// storeProgress is how far the store holds a run's work: the checkpoints of
// raw_events, each written only after the live documents it covers.
type storeProgress struct {
	caughtUp bool  // every partition's checkpoint is at the end of raw_events
	counted  int64 // events counted before the checkpoints
	behind   int64 // raw_events records not yet covered by a checkpoint
}

// storeWatch follows a run's checkpoints from the moment the aggregator
// consumes, in parallel with the aggregated_metrics finish line, and
// records when they first cover the backlog.
type storeWatch struct {
	done chan struct{}
	at   time.Time // caught up, or given up
	prog storeProgress
	use  usage // the run's CPU until then
	err  error
}

// watchStore polls the checkpoints in db every 250 ms until they cover
// every raw_events record of the backlog (b.rawEnds), until limit has
// passed or until ctx ends.
func (b *bench) watchStore(ctx context.Context, uri, db string, m *meter, limit time.Duration) *storeWatch {
	w := &storeWatch{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		cl, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(10 * time.Second))
		if err != nil {
			w.err, w.at, w.use = fmt.Errorf("store client: %w", err), time.Now(), m.read()
			return
		}
		defer func() { _ = cl.Disconnect(context.Background()) }()
		coll := cl.Database(db).Collection(metricdoc.CollCheckpoints)
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		for {
			p, err := b.readCheckpoints(ctx, coll)
			if err == nil {
				w.prog = p
			}
			if p.caughtUp {
				w.at, w.use = time.Now(), m.read()
				return
			}
			select {
			case <-ctx.Done():
				w.at, w.use = time.Now(), m.read()
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return w
}

func (b *bench) readCheckpoints(ctx context.Context, coll *mongo.Collection) (storeProgress, error) {
	cur, err := coll.Find(ctx, bson.D{{Key: "topic", Value: metricdoc.TopicRawEvents}})
	if err != nil {
		return storeProgress{}, fmt.Errorf("read checkpoints: %w", err)
	}
	var cps []metricdoc.Checkpoint
	if err := cur.All(ctx, &cps); err != nil {
		return storeProgress{}, fmt.Errorf("read checkpoints: %w", err)
	}
	at := map[int32]int64{}
	var p storeProgress
	for _, cp := range cps {
		at[cp.Partition] = cp.Offset
		p.counted += cp.Counted
	}
	for part, end := range b.rawEnds {
		p.behind += max(end-at[part], 0)
	}
	p.caughtUp = p.behind == 0
	return p, nil
}
