// Package load writes the benchmark's input into raw_events on a real
// broker: realistic ~1 KB AppsFlyer push events from the simulator (fixed
// seed), keyed and labelled exactly as ingest writes them, either all at
// once (a backlog every engine then drains) or paced at a steady offered
// rate with event time = wall clock (the freshness runs).
package load

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// Options choose the traffic. The backlog traffic has no duplicates, no
// malformed and no late deliveries, so that engines without de-duplication
// or dead-lettering compute the same totals as ours and every engine's
// output can be checked against one truth.
type Options struct {
	Seed int64
	// Rate is the simulated events/s: it sets how many hour windows the
	// events cover (100/s spreads 2M events over ~5.5 h of event time).
	Rate float64
	// Start is the event time of the first event.
	Start time.Time
}

// Backlog is a generated input and its ground truth.
type Backlog struct {
	Records []*kgo.Record
	Truth   *simulate.Truth
	Bytes   int64
}

// Generate builds n events from the simulator.
func Generate(n int, o Options) (*Backlog, error) {
	tr, err := traffic(o)
	if err != nil {
		return nil, err
	}
	b := &Backlog{Truth: simulate.NewTruth(time.UTC), Records: make([]*kgo.Record, 0, n)}
	now := time.Now()
	var ev event.Event
	for len(b.Records) < n {
		d := tr.Next()
		v := d.JSON(false)
		if err := event.Parse(v, &ev); err != nil {
			return nil, fmt.Errorf("simulator delivery %d does not parse: %w", d.Seq, err)
		}
		b.Truth.Observe(v)
		b.Records = append(b.Records, publish.RawRecord(metricdoc.TopicRawEvents, metricdoc.SourcePush, &ev, v, now))
		b.Bytes += int64(len(v))
	}
	return b, nil
}

func traffic(o Options) (*simulate.Traffic, error) {
	w, err := simulate.NewWorld(o.Seed, simulate.WorldOptions{})
	if err != nil {
		return nil, fmt.Errorf("simulator world: %w", err)
	}
	tr, err := w.Traffic(simulate.TrafficOptions{Rate: o.Rate, Start: o.Start, Users: 5000, PriorUsers: 2000})
	if err != nil {
		return nil, fmt.Errorf("simulator traffic: %w", err)
	}
	return tr, nil
}

// Produce writes the records to topic as fast as the broker takes them
// (idempotent producer, acks=all, as ingest does) and returns the time it
// took.
func Produce(ctx context.Context, cl *kgo.Client, topic string, recs []*kgo.Record) (time.Duration, error) {
	began := time.Now()
	var (
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	for _, r := range recs {
		r.Topic = topic
		wg.Add(1)
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				first.CompareAndSwap(nil, &err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return 0, fmt.Errorf("produce %s: %w", topic, *e)
	}
	return time.Since(began), nil
}

// Appended is one event of a steady run: the hour window it counts under
// and when the broker acknowledged it.
type Appended struct {
	Window simulate.WindowKey
	At     time.Time
}

// Steady replays the backlog's events at rate events/s for d, each with its
// event_time rewritten to the wall clock (same length, so the ~1 KB shape
// is kept; the identity changes with the second, so the copies of one event
// sent in different seconds are distinct events). Within one second it
// sends at most one event per identity (app, AppsFlyer id, event name and
// second, event.Identity): two events of one user and name that the
// rewrite puts into the same second would be one event to a de-duplicating
// engine and two to the others; the later one is left for another second. onAck is called from the
// producer's goroutines for each acknowledged event. It returns how many
// events were acknowledged.
func Steady(ctx context.Context, cl *kgo.Client, topic string, b *Backlog, rate float64, d time.Duration, onAck func(Appended)) (int64, error) {
	type slot struct {
		meta metricdoc.Meta
		at   int    // offset of the event_time value in the record value
		id   string // the identity's fields but the time
	}
	pool := make([]slot, len(b.Records))
	var ev event.Event
	for i, r := range b.Records {
		if err := event.Parse(r.Value, &ev); err != nil {
			return 0, fmt.Errorf("backlog record %d: %w", i, err)
		}
		at := bytes.Index(r.Value, []byte(`"event_time":"`))
		if at < 0 {
			return 0, fmt.Errorf("backlog record %d has no event_time string", i)
		}
		pool[i] = slot{meta: ev.Meta(), at: at + len(`"event_time":"`), id: ev.AppID + "\x00" + ev.AppsFlyerID + "\x00" + ev.EventName}
	}
	var (
		wg    sync.WaitGroup
		acked atomic.Int64
		first atomic.Pointer[error]
		sent  int64
		next  int                 // the backlog event to send next
		sec   int64               // the second of inSec
		inSec = map[string]bool{} // identities sent in that second
	)
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil && first.Load() == nil {
		el := time.Since(start)
		if el >= d {
			break
		}
		due := int64(el.Seconds() * rate)
		for ; sent < due; sent++ {
			now := time.Now().UTC()
			if now.Unix() != sec {
				sec = now.Unix()
				clear(inSec)
			}
			i := next
			for n := 0; inSec[pool[i].id] && n < len(pool); n++ {
				i = (i + 1) % len(pool)
			}
			next = (i + 1) % len(pool)
			inSec[pool[i].id] = true
			src := b.Records[i]
			v := slices.Clone(src.Value)
			copy(v[pool[i].at:], now.AppendFormat(nil, timeLayout))
			r := &kgo.Record{Topic: topic, Key: src.Key, Value: v, Headers: []kgo.RecordHeader{
				{Key: metricdoc.HeaderSource, Value: []byte(metricdoc.SourcePush)},
				{Key: metricdoc.HeaderIngestTime, Value: now.AppendFormat(nil, publish.IngestTimeLayout)},
			}}
			key := simulate.WindowKey{Start: metricdoc.WindowStart(metricdoc.Hour, now, time.UTC).UTC(), Meta: pool[i].meta}
			wg.Add(1)
			cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				acked.Add(1)
				onAck(Appended{Window: key, At: time.Now()})
			})
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return acked.Load(), fmt.Errorf("produce %s: %w", topic, *e)
	}
	return acked.Load(), ctx.Err()
}

// timeLayout is AppsFlyer's event_time format, as the simulator writes it.
const timeLayout = "2006-01-02 15:04:05.000"
