package simulate

import (
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// WindowKey identifies one window of one dimension set. Start is in UTC, so
// keys compare with ==; convert a stored window_start with .UTC().
type WindowKey struct {
	Start time.Time
	Meta  metricdoc.Meta
}

// Outcome is what Truth did with one observed raw event.
type Outcome int

// Outcomes of Truth.Observe.
const (
	Counted Outcome = iota
	Duplicate
	Malformed
)

// Truth is the ground truth of a set of raw events, computed with the same
// definitions the aggregator uses: event.Parse decides validity,
// Event.Identity de-duplicates, Event.Meta gives the dimensions and
// metricdoc.WindowStart the hour and day windows in Location. So the
// aggregator's totals must equal Truth's exactly, window by window.
//
// Truth is not safe for concurrent use.
type Truth struct {
	loc        *time.Location
	seen       map[uint64]struct{}
	windows    map[metricdoc.Granularity]map[WindowKey]metricdoc.Totals
	produced   int64
	duplicates int64
	malformed  map[event.Reason]int64
	total      metricdoc.Totals
	ev         event.Event
}

// NewTruth returns an empty truth with day boundaries in loc (nil = UTC).
func NewTruth(loc *time.Location) *Truth {
	if loc == nil {
		loc = time.UTC
	}
	return &Truth{
		loc:  loc,
		seen: map[uint64]struct{}{},
		windows: map[metricdoc.Granularity]map[WindowKey]metricdoc.Totals{
			metricdoc.Hour: {}, metricdoc.Day: {},
		},
		malformed: map[event.Reason]int64{},
	}
}

// Observe accounts for one raw event as the pipeline received it (a push
// body, a GET postback converted with appsflyer.PushQueryToJSON, or a pulled
// CSV row from appsflyer.RowReader).
func (t *Truth) Observe(raw []byte) (Outcome, event.Reason) {
	t.produced++
	if err := event.Parse(raw, &t.ev); err != nil {
		r := event.ReasonOf(err)
		t.malformed[r]++
		return Malformed, r
	}
	id := t.ev.Identity()
	if _, dup := t.seen[id]; dup {
		t.duplicates++
		return Duplicate, ""
	}
	t.seen[id] = struct{}{}
	m, tot := t.ev.Meta(), t.ev.Totals()
	for g, ws := range t.windows {
		k := WindowKey{Start: metricdoc.WindowStart(g, t.ev.Time, t.loc).UTC(), Meta: m}
		w := ws[k]
		w.Add(tot)
		ws[k] = w
	}
	t.total.Add(tot)
	return Counted, ""
}

// ObserveDeliveries observes every delivery that is not Dropped, as JSON
// (typed or strings): the truth of a push-only pipeline.
func (t *Truth) ObserveDeliveries(ds []Delivery, typed bool) {
	for i := range ds {
		if !ds[i].Dropped {
			t.Observe(ds[i].JSON(typed))
		}
	}
}

// Location returns the time zone of day windows.
func (t *Truth) Location() *time.Location { return t.loc }

// Windows returns a copy of the totals per window of granularity g.
func (t *Truth) Windows(g metricdoc.Granularity) map[WindowKey]metricdoc.Totals {
	out := make(map[WindowKey]metricdoc.Totals, len(t.windows[g]))
	for k, v := range t.windows[g] {
		out[k] = v
	}
	return out
}

// Window returns the totals of one window (zero if none).
func (t *Truth) Window(g metricdoc.Granularity, start time.Time, m metricdoc.Meta) metricdoc.Totals {
	return t.windows[g][WindowKey{Start: start.UTC(), Meta: m}]
}

// Total returns the totals over all counted events.
func (t *Truth) Total() metricdoc.Totals { return t.total }

// Produced is the number of observed raw events (deliveries).
func (t *Truth) Produced() int64 { return t.produced }

// Unique is the number of valid, distinct events (counted once each).
func (t *Truth) Unique() int64 { return int64(len(t.seen)) }

// Duplicates is the number of valid events seen again.
func (t *Truth) Duplicates() int64 { return t.duplicates }

// Malformed is the number of raw events event.Parse rejected.
func (t *Truth) Malformed() int64 {
	var n int64
	for _, v := range t.malformed {
		n += v
	}
	return n
}

// MalformedBy returns the rejected raw events per reason.
func (t *Truth) MalformedBy() map[event.Reason]int64 {
	out := make(map[event.Reason]int64, len(t.malformed))
	for k, v := range t.malformed {
		out[k] = v
	}
	return out
}

// Truth returns the ground truth of every valid event generated so far,
// each once: what a pipeline that combines push with a complete pull
// backfill must count.
func (w *World) Truth(loc *time.Location) *Truth {
	t := NewTruth(loc)
	for _, e := range w.Events() {
		t.Observe(marshal(e.Fields()))
	}
	return t
}
