package plugin

import (
	"slices"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// follower keeps the newest state per (Key, Partition) that matches a
// query, seeded from MongoDB and then replaced by newer aggregated_metrics
// Updates, and turns it into rows summed over partitions.
type follower struct {
	q     request.Query
	state map[partKey]metricdoc.Update
}

type partKey struct {
	key       string
	partition int32
}

func newFollower(q request.Query) *follower {
	return &follower{q: q, state: map[partKey]metricdoc.Update{}}
}

// apply records u if it matches the query and is not older than what is
// known for its (Key, Partition). It reports whether anything changed.
func (f *follower) apply(u *metricdoc.Update) bool {
	if u.Granularity != f.q.Granularity || !f.matches(&u.Meta) {
		return false
	}
	k := partKey{key: u.Key(), partition: u.Partition}
	old, ok := f.state[k]
	if ok && (old.Offset > u.Offset || old.Totals == u.Totals && old.Offset == u.Offset) {
		return false
	}
	f.state[k] = *u
	return true
}

// seed records u, read from MongoDB, as the starting state of its
// (Key, Partition); the store's filter already selected it.
func (f *follower) seed(u *metricdoc.Update) {
	f.state[partKey{key: u.Key(), partition: u.Partition}] = *u
}

// matches applies the measure's event filter and the query's value filters.
func (f *follower) matches(m *metricdoc.Meta) bool {
	if spec, _ := metricdoc.LookupMeasure(f.q.Measure); !spec.Filter.Accepts(m) {
		return false
	}
	for dim, values := range f.q.Filters {
		if _, found := slices.BinarySearch(values, m.Get(dim)); !found {
			return false
		}
	}
	return true
}

// prune forgets windows that start before oldest.
func (f *follower) prune(oldest time.Time) {
	for k, u := range f.state {
		if u.WindowStart.Before(oldest) {
			delete(f.state, k)
		}
	}
}

// rows returns one row per kept update; frames.Metrics sums partitions.
func (f *follower) rows() []pipeline.Row {
	out := make([]pipeline.Row, 0, len(f.state))
	for _, u := range f.state {
		r := pipeline.Row{Window: u.WindowStart.UTC(), Value: measureValue(f.q.Measure, u.Totals)}
		if len(f.q.GroupBy) > 0 {
			r.Group = make([]string, len(f.q.GroupBy))
			for i, dim := range f.q.GroupBy {
				r.Group[i] = u.Meta.Get(dim)
			}
		}
		out = append(out, r)
	}
	return out
}

func measureValue(m metricdoc.Measure, t metricdoc.Totals) int64 {
	spec, _ := metricdoc.LookupMeasure(m)
	return spec.Value(t)
}
