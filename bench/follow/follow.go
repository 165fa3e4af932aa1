// Package follow reads aggregated_metrics the way a dashboard follower does
// and turns what it sees into the benchmark's measures: how many events the
// updates account for (so when a run is complete), whether the final totals
// equal the ground truth, and per event how long after its append the
// update that included it arrived (freshness).
//
// Every engine writes the same JSON shape (metricdoc.Update): ours writes one
// partial total per (window, dimensions, raw_events partition), the peers
// one total per (window, dimensions) with partition -1. A window's total is
// the sum of the newest partial of each partition.
package follow

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

type winKey struct {
	gran metricdoc.Granularity
	simulate.WindowKey
}

type win struct {
	parts map[int32]int64
	total int64
	// freshness: append times of the events of this window not yet seen in
	// an update, oldest first (events are counted in append order).
	pending []time.Time
	seen    int64 // events of pending already accounted for
}

// Follower consumes aggregated_metrics from given offsets.
type Follower struct {
	cl *kgo.Client

	mu      sync.Mutex
	wins    map[winKey]*win
	totals  map[metricdoc.Granularity]int64
	perPart map[int32]int64 // hour granularity: events by the partition the update names
	updates int64
	first   time.Time
	last    time.Time
	lat     []time.Duration // freshness samples
	since   time.Time       // only events appended after this are sampled
	changed chan struct{}
}

// Start follows topic on brokers from start (partition -> offset); the
// follower runs until ctx ends or Close.
func Start(ctx context.Context, brokers []string, topic string, start map[int32]int64) (*Follower, error) {
	offs := make(map[int32]kgo.Offset, len(start))
	for p, o := range start {
		offs[p] = kgo.NewOffset().At(o)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}),
		kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", topic, err)
	}
	f := &Follower{cl: cl, wins: map[winKey]*win{}, totals: map[metricdoc.Granularity]int64{}, perPart: map[int32]int64{}, changed: make(chan struct{}, 1)}
	go f.run(ctx)
	return f, nil
}

// Close stops the consumer.
func (f *Follower) Close() { f.cl.Close() }

func (f *Follower) run(ctx context.Context) {
	for {
		fs := f.cl.PollFetches(ctx)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return
		}
		now := time.Now()
		f.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) { f.apply(r.Value, now) })
		f.mu.Unlock()
		select {
		case f.changed <- struct{}{}:
		default:
		}
	}
}

// update is the part of metricdoc.Update the follower needs.
type update struct {
	Granularity metricdoc.Granularity `json:"granularity"`
	WindowStart time.Time             `json:"window_start"`
	Meta        metricdoc.Meta        `json:"meta"`
	Partition   int32                 `json:"partition"`
	Events      int64                 `json:"events"`
}

func (f *Follower) apply(v []byte, now time.Time) {
	var u update
	if err := json.Unmarshal(v, &u); err != nil {
		return
	}
	k := winKey{gran: u.Granularity, WindowKey: simulate.WindowKey{Start: u.WindowStart.UTC(), Meta: u.Meta}}
	w := f.win(k)
	old := w.parts[u.Partition]
	if u.Events <= old {
		return // a repeated or older partial
	}
	w.parts[u.Partition] = u.Events
	w.total += u.Events - old
	f.totals[u.Granularity] += u.Events - old
	f.updates++
	if f.first.IsZero() {
		f.first = now
	}
	f.last = now
	if k.gran != metricdoc.Hour {
		return
	}
	f.perPart[u.Partition] += u.Events - old
	// The window now accounts for w.total events: the oldest pending ones
	// are included (append order), and their freshness is now - append.
	for w.seen < w.total && len(w.pending) > 0 {
		at := w.pending[0]
		w.pending = w.pending[1:]
		w.seen++
		if !f.since.IsZero() && !at.Before(f.since) {
			f.lat = append(f.lat, now.Sub(at))
		}
	}
}

func (f *Follower) win(k winKey) *win {
	w := f.wins[k]
	if w == nil {
		w = &win{parts: map[int32]int64{}}
		f.wins[k] = w
	}
	return w
}

// Appended records that an event of hour window k was acknowledged at at.
// Only events appended after SampleFrom are freshness samples.
func (f *Follower) Appended(k simulate.WindowKey, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.win(winKey{gran: metricdoc.Hour, WindowKey: k})
	if w.seen < w.total {
		// The update arrived before the producer's ack was processed.
		w.seen++
		if !f.since.IsZero() && !at.Before(f.since) {
			f.lat = append(f.lat, 0)
		}
		return
	}
	w.pending = append(w.pending, at)
}

// SampleFrom starts freshness sampling with events appended from t on.
func (f *Follower) SampleFrom(t time.Time) {
	f.mu.Lock()
	f.since = t
	f.mu.Unlock()
}

// Counted returns the events the hour and the day updates account for.
func (f *Follower) Counted() (hour, day int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.totals[metricdoc.Hour], f.totals[metricdoc.Day]
}

// PartitionEvents returns the events the hour updates account for by the
// raw_events partition they name (ours: one per partition; the peers: -1).
func (f *Follower) PartitionEvents() map[int32]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[int32]int64, len(f.perPart))
	for p, n := range f.perPart {
		out[p] = n
	}
	return out
}

// WaitCounted waits until both granularities account for n events and
// returns when the last update arrived.
func (f *Follower) WaitCounted(ctx context.Context, n int64) (time.Time, error) {
	for {
		f.mu.Lock()
		h, d, last := f.totals[metricdoc.Hour], f.totals[metricdoc.Day], f.last
		f.mu.Unlock()
		if h >= n && d >= n {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("updates account for %d hour / %d day events of %d: %w", h, d, n, ctx.Err())
		case <-f.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Mismatches compares the final totals with the truth and returns how many
// windows differ (missing, extra or wrong).
func (f *Follower) Mismatches(t *simulate.Truth) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	bad := 0
	for _, g := range metricdoc.Granularities {
		want := t.Windows(g)
		got := 0
		for k, w := range f.wins {
			if k.gran != g || w.total == 0 {
				continue
			}
			got++
			if want[k.WindowKey].Events != w.total {
				bad++
			}
		}
		for k := range want {
			if f.wins[winKey{gran: g, WindowKey: k}] == nil {
				bad++
			}
		}
		_ = got
	}
	return bad
}

// Freshness returns the p50, p99 and max of the sampled freshness and the
// number of samples; events never included yet count as still waiting at
// now.
func (f *Follower) Freshness(now time.Time) (p50, p99, maxd time.Duration, n int) {
	f.mu.Lock()
	lat := append([]time.Duration(nil), f.lat...)
	for _, w := range f.wins {
		for _, at := range w.pending {
			if !f.since.IsZero() && !at.Before(f.since) {
				lat = append(lat, now.Sub(at))
			}
		}
	}
	f.mu.Unlock()
	if len(lat) == 0 {
		return 0, 0, 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return q(0.50), q(0.99), lat[len(lat)-1], len(lat)
}

// Updates returns how many updates changed a total, and the first and last
// arrival.
func (f *Follower) Updates() (n int64, first, last time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updates, f.first, f.last
}
