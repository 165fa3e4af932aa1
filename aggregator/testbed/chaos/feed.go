package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// feed is the seeded traffic of one run and its ground truth.
type feed struct {
	records []*kgo.Record
	truth   *simulate.Truth
}

// newFeed generates n deliveries with duplicates, late and malformed events,
// as raw_events records: valid events keyed like ingest keys them, garbage
// unkeyed (schema drift that slipped past ingest must still be accounted
// for by the aggregator). A share of the valid events is labelled as pulled.
func newFeed(seed int64, n int, loc *time.Location) (*feed, error) {
	// A small world keeps the number of windows (and so of MongoDB writes
	// per flush) within what the FerretDB stand-in sustains (~100 updates/s).
	w, err := simulate.NewWorld(seed, simulate.WorldOptions{Apps: 2, Campaigns: 3})
	if err != nil {
		return nil, fmt.Errorf("simulator world: %w", err)
	}
	tr, err := w.Traffic(simulate.TrafficOptions{
		Rate:           200,
		DuplicateShare: 0.05,
		LateShare:      0.03,
		MalformedShare: 0.01,
		MaxLateness:    90 * time.Minute, // within the default allowed lateness: nothing is too late
	})
	if err != nil {
		return nil, fmt.Errorf("simulator traffic: %w", err)
	}
	ds := tr.Take(n)
	f := &feed{truth: simulate.NewTruth(loc)}
	f.truth.ObserveDeliveries(ds, false)
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	now := time.Now()
	var ev event.Event
	for i := range ds {
		value := ds[i].JSON(false)
		source := metricdoc.SourcePush
		if rng.IntN(5) == 0 {
			source = metricdoc.SourcePull
		}
		if err := event.Parse(value, &ev); err != nil {
			f.records = append(f.records, &kgo.Record{
				Topic: metricdoc.TopicRawEvents,
				Value: value,
				Headers: []kgo.RecordHeader{
					{Key: metricdoc.HeaderSource, Value: []byte(source)},
					{Key: metricdoc.HeaderIngestTime, Value: now.UTC().AppendFormat(nil, publish.IngestTimeLayout)},
				},
			})
			continue
		}
		f.records = append(f.records, publish.RawRecord(metricdoc.TopicRawEvents, source, &ev, value, now))
	}
	return f, nil
}

// produce writes the records in chunks spread over spread, so kills land
// while data is still arriving. It returns the number of records acked.
func (f *feed) produce(ctx context.Context, cl *kgo.Client, spread time.Duration) (int64, error) {
	const chunk = 500
	chunks := (len(f.records) + chunk - 1) / chunk
	pause := spread / time.Duration(max(chunks, 1))
	var acked int64
	for i := 0; i < len(f.records); i += chunk {
		batch := f.records[i:min(i+chunk, len(f.records))]
		if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			return acked, fmt.Errorf("produce raw_events: %w", err)
		}
		acked += int64(len(batch))
		select {
		case <-ctx.Done():
			return acked, ctx.Err()
		case <-time.After(pause):
		}
	}
	return acked, nil
}
