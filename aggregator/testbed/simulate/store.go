package simulate

import (
	"slices"
	"sync"
	"time"
)

// store keeps the world's valid events per app and report, for the Pull
// API. Events arrive roughly in event-time order (late ones are out of
// order), so buckets are sorted lazily on read.
type store struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	n       int
}

type bucketKey struct{ app, report string }

type bucket struct {
	events []*Event
	sorted bool
}

func newStore() *store { return &store{buckets: map[bucketKey]*bucket{}} }

func (s *store) add(e *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := bucketKey{e.User.App.ID, e.Report()}
	b := s.buckets[k]
	if b == nil {
		b = &bucket{sorted: true}
		s.buckets[k] = b
	}
	if n := len(b.events); n > 0 && eventLess(e, b.events[n-1]) {
		b.sorted = false
	}
	b.events = append(b.events, e)
	s.n++
}

// eventLess orders by event time truncated to the second (what a report
// filters on), then generation order.
func eventLess(a, b *Event) bool {
	ta, tb := a.Time.Unix(), b.Time.Unix()
	if ta != tb {
		return ta < tb
	}
	return a.seq < b.seq
}

// query returns the events of app/report with from <= event second < to,
// newest first.
func (s *store) query(app, report string, from, to time.Time) []*Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucketKey{app, report}]
	if b == nil {
		return nil
	}
	if !b.sorted {
		slices.SortStableFunc(b.events, func(x, y *Event) int {
			if eventLess(x, y) {
				return -1
			}
			if eventLess(y, x) {
				return 1
			}
			return 0
		})
		b.sorted = true
	}
	lo, _ := slices.BinarySearchFunc(b.events, from.Unix(), func(e *Event, sec int64) int { return cmpInt(e.Time.Unix(), sec) })
	hi, _ := slices.BinarySearchFunc(b.events, to.Unix(), func(e *Event, sec int64) int { return cmpInt(e.Time.Unix(), sec) })
	out := make([]*Event, 0, hi-lo)
	for i := hi - 1; i >= lo; i-- {
		out = append(out, b.events[i])
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// all returns every stored event in generation order.
func (s *store) all() []*Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Event, 0, s.n)
	for _, b := range s.buckets {
		out = append(out, b.events...)
	}
	slices.SortFunc(out, func(x, y *Event) int { return cmpInt(x.seq, y.seq) })
	return out
}

// Events returns every valid event generated so far, in generation order.
func (w *World) Events() []*Event { return w.store.all() }

// Query returns the events a raw-data report lists for app with
// from <= event time (truncated to the second) < to, newest first.
func (w *World) Query(app, report string, from, to time.Time) []*Event {
	return w.store.query(app, report, from, to)
}

// Len returns the number of valid events generated so far.
func (w *World) Len() int {
	w.store.mu.Lock()
	defer w.store.mu.Unlock()
	return w.store.n
}
