// Package seed writes a described world into MongoDB (or FerretDB) the way
// the aggregator leaves it, and raw_events in Kafka the way a consumer
// group leaves it, and answers what a correct reader must find there. Tests
// of the readers (the plugin's contract tests, the provisioned dashboards
// and alert rules) describe their world once and assert against the truth
// computed from that same description, so a test and its data cannot
// disagree about what was stored.
package seed

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// World describes what the aggregator has stored by Now: every window of
// every dimension set and partition, split between the time-series
// collections and live_metrics by how far each partition has finalized,
// plus checkpoints and freshness. Day windows are cut in UTC, and a day's
// totals are its hours' activity up to Now, so hour and day queries agree.
type World struct {
	// Now is the world's clock: its hour and day are the open windows.
	Now time.Time
	// Metas are the dimension sets that have activity.
	Metas []metricdoc.Meta
	// Activity is what one dimension set did in one partition and hour. A
	// zero result stores nothing, as the aggregator opens no window for it.
	Activity func(m metricdoc.Meta, partition int32, hour time.Time) metricdoc.Totals
	// Hours is how many hourly windows are stored, the current one last.
	Hours int
	// Days is how many daily windows are stored, today last.
	Days int
	// OpenHours says, per partition, how many of the newest hourly windows
	// are still open (only in live_metrics); the older ones are finalized.
	// Its length is the number of partitions. Days are finalized as the
	// aggregator finalizes them: those before the day of the partition's
	// first open hour.
	OpenHours []int
	// FinalLiveHours and FinalLiveDays are how many windows before the
	// current one still hold a finalized live copy (final, with expire_at)
	// next to its time-series document; older copies have expired. A
	// reader must count such a window once.
	FinalLiveHours, FinalLiveDays int
	// DuplicateEvery appends every n-th final document twice, as an append
	// the server applied after its client gave up leaves it (time-series
	// collections have no unique key); readers count it once. 0: none.
	DuplicateEvery int
	// Freshness is the newest event of each app and source.
	Freshness []Fresh
}

// Fresh is one freshness document: the app's newest event from the source
// is Age old at Now.
type Fresh struct {
	AppID, Source string
	Age           time.Duration
}

// Cell is one window of the truth: the totals of one dimension set in one
// partition, however the store splits them between its collections.
type Cell struct {
	Granularity metricdoc.Granularity
	Window      time.Time
	Meta        metricdoc.Meta
	Partition   int32
	Totals      metricdoc.Totals
}

// Truth is what a correct reader finds in the seeded store.
type Truth struct {
	Now time.Time
	// FirstHour and FirstDay are the oldest stored windows; Today is the
	// current day window.
	FirstHour, FirstDay, Today time.Time
	Cells                      []Cell
	Checkpoints                []metricdoc.Checkpoint
	Freshness                  []metricdoc.Freshness
	// Stored counts the documents written per collection.
	Stored map[string]int64
}

// offset is the source offset every seeded live document and checkpoint
// records; readers of the metrics do not look at it.
const offset = 1000

// Sum adds the totals of the cells match accepts.
func (t *Truth) Sum(match func(*Cell) bool) metricdoc.Totals {
	var sum metricdoc.Totals
	for i := range t.Cells {
		if match(&t.Cells[i]) {
			sum.Add(t.Cells[i].Totals)
		}
	}
	return sum
}

// Measure is what a metrics query of spec over the cells match accepts
// answers in all: the measure's value in its display unit.
func (t *Truth) Measure(spec metricdoc.MeasureSpec, match func(*Cell) bool) float64 {
	v := float64(spec.Value(t.Sum(func(c *Cell) bool { return spec.Filter.Accepts(&c.Meta) && match(c) })))
	if spec.Micros {
		v /= 1e6
	}
	return v
}

// Values lists the distinct values of a dimension over the stored windows,
// sorted, as a variable query lists them.
func (t *Truth) Values(dim string) []string {
	var out []string
	for i := range t.Cells {
		if v := t.Cells[i].Meta.Get(dim); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// FinalizedThrough is the minimum finalized-through time of g over the
// partitions, where readers split the time-series collection from
// live_metrics.
func (t *Truth) FinalizedThrough(g metricdoc.Granularity) time.Time {
	return metricdoc.FinalizedThrough(t.Checkpoints, g)
}

// Write stores w in db (which must hold no metric documents yet) and
// returns its truth.
func Write(ctx context.Context, db *mongo.Database, w World) (*Truth, error) {
	tr, docs, err := w.build()
	if err != nil {
		return nil, err
	}
	for _, coll := range []string{metricdoc.CollLive, metricdoc.CollHourly, metricdoc.CollDaily, metricdoc.CollCheckpoints, metricdoc.CollFreshness} {
		if len(docs[coll]) == 0 {
			continue
		}
		if _, err := db.Collection(coll).InsertMany(ctx, docs[coll]); err != nil {
			return nil, fmt.Errorf("seed %s: %w", coll, err)
		}
		tr.Stored[coll] = int64(len(docs[coll]))
	}
	return tr, nil
}

// build computes the truth and the documents of each collection.
func (w World) build() (*Truth, map[string][]any, error) {
	if w.Now.IsZero() || w.Activity == nil || len(w.OpenHours) == 0 || w.Hours < 1 || w.Days < 1 {
		return nil, nil, fmt.Errorf("seed: a world needs Now, Activity, OpenHours, Hours and Days")
	}
	utc := time.UTC
	now := w.Now.UTC()
	curHour := metricdoc.WindowStart(metricdoc.Hour, now, utc)
	today := metricdoc.WindowStart(metricdoc.Day, now, utc)
	tr := &Truth{Now: now, Today: today, Stored: map[string]int64{},
		FirstHour: curHour.Add(-time.Duration(w.Hours-1) * time.Hour), FirstDay: today.AddDate(0, 0, 1-w.Days)}
	for p, open := range w.OpenHours {
		finHour := curHour.Add(-time.Duration(open-1) * time.Hour)
		tr.Checkpoints = append(tr.Checkpoints, metricdoc.Checkpoint{
			ID: metricdoc.CheckpointID(metricdoc.TopicRawEvents, int32(p)), Topic: metricdoc.TopicRawEvents, Partition: int32(p),
			Offset: offset, Watermark: now, FinalizedHour: finHour, FinalizedDay: metricdoc.WindowStart(metricdoc.Day, finHour, utc),
			UpdatedAt: now, TimeZone: utc.String(),
		})
	}
	for p := range tr.Checkpoints {
		for _, m := range w.Metas {
			for day := tr.FirstDay; !day.After(today); day = day.AddDate(0, 0, 1) {
				var sum metricdoc.Totals
				for h := day; h.Before(day.AddDate(0, 0, 1)) && !h.After(curHour); h = h.Add(time.Hour) {
					t := w.Activity(m, int32(p), h)
					if t != (metricdoc.Totals{}) && !h.Before(tr.FirstHour) {
						tr.Cells = append(tr.Cells, Cell{Granularity: metricdoc.Hour, Window: h, Meta: m, Partition: int32(p), Totals: t})
					}
					sum.Add(t)
				}
				if sum != (metricdoc.Totals{}) {
					tr.Cells = append(tr.Cells, Cell{Granularity: metricdoc.Day, Window: day, Meta: m, Partition: int32(p), Totals: sum})
				}
			}
		}
	}

	docs := map[string][]any{}
	keptSince := map[metricdoc.Granularity]time.Time{
		metricdoc.Hour: curHour.Add(-time.Duration(w.FinalLiveHours) * time.Hour),
		metricdoc.Day:  today.AddDate(0, 0, -w.FinalLiveDays),
	}
	expire := now.Add(48 * time.Hour)
	finals := 0
	for _, c := range tr.Cells {
		final := c.Window.Before(tr.Checkpoints[c.Partition].Finalized(c.Granularity))
		if final {
			f := metricdoc.Final{WindowStart: c.Window, Meta: c.Meta, Partition: c.Partition, Totals: c.Totals}
			docs[c.Granularity.Collection()] = append(docs[c.Granularity.Collection()], f)
			if finals++; w.DuplicateEvery > 0 && finals%w.DuplicateEvery == 0 {
				docs[c.Granularity.Collection()] = append(docs[c.Granularity.Collection()], f)
			}
			if c.Window.Before(keptSince[c.Granularity]) {
				continue // its live copy has expired
			}
		}
		l := metricdoc.Live{
			ID: metricdoc.LiveID(c.Granularity, c.Window, c.Meta, c.Partition), Granularity: c.Granularity,
			WindowStart: c.Window, WindowEnd: metricdoc.WindowEnd(c.Granularity, c.Window, utc),
			Meta: c.Meta, Partition: c.Partition, Totals: c.Totals, Offset: offset, Final: final, UpdatedAt: now,
		}
		if final {
			l.ExpireAt = &expire
		}
		docs[metricdoc.CollLive] = append(docs[metricdoc.CollLive], l)
	}
	for _, cp := range tr.Checkpoints {
		docs[metricdoc.CollCheckpoints] = append(docs[metricdoc.CollCheckpoints], cp)
	}
	for _, f := range w.Freshness {
		last := now.Add(-f.Age)
		d := metricdoc.Freshness{ID: f.AppID + "|" + f.Source, AppID: f.AppID, Source: f.Source, LastEventAt: last, LastIngest: last, UpdatedAt: now}
		tr.Freshness = append(tr.Freshness, d)
		docs[metricdoc.CollFreshness] = append(docs[metricdoc.CollFreshness], d)
	}
	return tr, docs, nil
}
