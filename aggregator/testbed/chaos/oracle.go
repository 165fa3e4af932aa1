package chaos

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// Accounting sums the per-partition outcome counters the aggregator stores
// with its checkpoints.
type Accounting struct {
	Processed    int64 // records before the checkpoint offsets
	Counted      int64
	Duplicates   int64
	TooLate      int64
	DeadLettered int64
	// Skipped offsets hold no event: transaction markers and records of
	// aborted transactions.
	Skipped int64
}

// Outcomes is the number of events that got an outcome.
func (a Accounting) Outcomes() int64 {
	return a.Counted + a.Duplicates + a.TooLate + a.DeadLettered
}

// Holds reports whether every offset before the checkpoints is either an
// event with exactly one outcome or a skipped non-event.
func (a Accounting) Holds() bool {
	return a.Processed == a.Outcomes()+a.Skipped
}

// Stored is what MongoDB holds, read with the metricdoc layout rule.
type Stored struct {
	Windows    map[metricdoc.Granularity]map[simulate.WindowKey]metricdoc.Totals
	Accounting Accounting
	// Offsets are the checkpoint offsets per partition of raw_events.
	Offsets map[int32]int64
	// FinalCopies counts final documents that repeat a window key already
	// read (appends raced by a cancelled insert or a second owner); they
	// are counted once, like every reader does. CopiesDiffer counts repeats
	// whose totals differ from the first copy: that would be a real error.
	FinalCopies, CopiesDiffer int
}

// ReadStored reads every window of both granularities: windows that start
// before the minimum finalized-through time of all checkpoints come from the
// time-series collection, the rest from live_metrics; partials of one window
// are summed over partitions, and repeated copies of a final window are
// read once.
func ReadStored(ctx context.Context, db *mongo.Database) (*Stored, error) {
	cur, err := db.Collection(metricdoc.CollCheckpoints).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var cps []metricdoc.Checkpoint
	if err := cur.All(ctx, &cps); err != nil {
		return nil, fmt.Errorf("decode checkpoints: %w", err)
	}
	s := &Stored{
		Windows: map[metricdoc.Granularity]map[simulate.WindowKey]metricdoc.Totals{},
		Offsets: map[int32]int64{},
	}
	var raw []metricdoc.Checkpoint
	for _, cp := range cps {
		if cp.Topic != metricdoc.TopicRawEvents {
			continue
		}
		raw = append(raw, cp)
		s.Offsets[cp.Partition] = cp.Offset
		s.Accounting.Processed += cp.Offset
		s.Accounting.Counted += cp.Counted
		s.Accounting.Duplicates += cp.Duplicates
		s.Accounting.TooLate += cp.TooLate
		s.Accounting.DeadLettered += cp.DeadLettered
		s.Accounting.Skipped += cp.Skipped
	}
	for _, g := range metricdoc.Granularities {
		through := metricdoc.FinalizedThrough(raw, g)
		w := map[simulate.WindowKey]metricdoc.Totals{}
		add := func(start time.Time, m metricdoc.Meta, t metricdoc.Totals) {
			k := simulate.WindowKey{Start: start.UTC(), Meta: m}
			cur := w[k]
			cur.Add(t)
			w[k] = cur
		}
		finals, err := find[metricdoc.Final](ctx, db.Collection(g.Collection()),
			bson.D{{Key: metricdoc.FieldWindowStart, Value: bson.D{{Key: "$lt", Value: through}}}})
		if err != nil {
			return nil, err
		}
		seen := make(map[string]metricdoc.Totals, len(finals))
		for i := range finals {
			f := &finals[i]
			k := metricdoc.FinalKey(g, f)
			if first, dup := seen[k]; dup {
				s.FinalCopies++
				if first != f.Totals {
					s.CopiesDiffer++
				}
				continue
			}
			seen[k] = f.Totals
			add(f.WindowStart, f.Meta, f.Totals)
		}
		lives, err := find[metricdoc.Live](ctx, db.Collection(metricdoc.CollLive), bson.D{
			{Key: metricdoc.FieldGranularity, Value: string(g)},
			{Key: metricdoc.FieldWindowStart, Value: bson.D{{Key: "$gte", Value: through}}},
		})
		if err != nil {
			return nil, err
		}
		for _, l := range lives {
			add(l.WindowStart, l.Meta, l.Totals)
		}
		s.Windows[g] = w
	}
	return s, nil
}

func find[T any](ctx context.Context, c *mongo.Collection, filter bson.D) ([]T, error) {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.Name(), err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", c.Name(), err)
	}
	return out, nil
}

// Mismatch is one window whose stored totals differ from the truth.
type Mismatch struct {
	Granularity metricdoc.Granularity
	Key         simulate.WindowKey
	Want, Got   metricdoc.Totals
}

// Compare returns every window, of either granularity, where the store and
// the truth disagree (including windows present on one side only).
func Compare(truth *simulate.Truth, s *Stored) []Mismatch {
	var out []Mismatch
	for _, g := range metricdoc.Granularities {
		want, got := truth.Windows(g), s.Windows[g]
		for k, w := range want {
			if got[k] != w {
				out = append(out, Mismatch{Granularity: g, Key: k, Want: w, Got: got[k]})
			}
		}
		for k, gt := range got {
			if _, ok := want[k]; !ok && gt != (metricdoc.Totals{}) {
				out = append(out, Mismatch{Granularity: g, Key: k, Got: gt})
			}
		}
	}
	return out
}
