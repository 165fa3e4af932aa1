package pipeline

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// MaxWindows bounds the windows one query may span (about 5.7 years of
// hours), so a typo in a range cannot make the plugin build a huge frame.
const MaxWindows = 50000

// Part is one aggregation: a collection and the pipeline to run on it.
type Part struct {
	Collection string
	Pipeline   mongo.Pipeline
}

// Plan is how to answer a metrics query.
type Plan struct {
	Granularity metricdoc.Granularity
	// Windows are the starts of every window overlapping the range, oldest
	// first; frames have one row per window, zero where nothing happened.
	Windows []time.Time
	// Timed is false for table queries, whose pipelines sum over the range.
	Timed bool
	Parts []Part
}

// NewPlan splits the query's windows at finalizedThrough: windows that start
// before it are read from the granularity's time-series collection, the rest
// from live_metrics. A zero finalizedThrough means nothing is final yet.
func NewPlan(q request.Query, finalizedThrough time.Time, loc *time.Location) (Plan, error) {
	g := q.Granularity
	p := Plan{Granularity: g, Timed: q.Format != metricdoc.FormatTable}
	var err error
	if p.Windows, err = Windows(g, q.From, q.To, loc); err != nil || len(p.Windows) == 0 {
		return p, err
	}
	start := metricdoc.WindowStart(g, q.From, loc)
	end := q.To
	split := finalizedThrough
	if split.Before(start) {
		split = start
	}
	if split.After(end) {
		split = end
	}
	if start.Before(split) {
		p.Parts = append(p.Parts, Part{Collection: g.Collection(), Pipeline: pipeline(q, start, split, false, p.Timed)})
	}
	if split.Before(end) {
		p.Parts = append(p.Parts, Part{Collection: metricdoc.CollLive, Pipeline: pipeline(q, split, end, true, p.Timed)})
	}
	return p, nil
}

// Windows returns the starts (in UTC) of the windows of g overlapping
// [from, to), with boundaries in loc.
func Windows(g metricdoc.Granularity, from, to time.Time, loc *time.Location) ([]time.Time, error) {
	var out []time.Time
	for w := metricdoc.WindowStart(g, from, loc); w.Before(to); w = metricdoc.WindowEnd(g, w, loc) {
		if len(out) == MaxWindows {
			return nil, fmt.Errorf("time range spans more than %d %s windows: shorten it or use granularity day", MaxWindows, g)
		}
		out = append(out, w.UTC())
	}
	return out, nil
}
