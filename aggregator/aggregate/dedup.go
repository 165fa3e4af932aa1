package aggregate

import "github.com/campaignpulse/campaignpulse/aggregator/dedupstore"

// identitySet is a partition's de-duplication set: event identities by the
// hour of their event time, for the correction horizon.
// *dedupstore.Set (memory-bounded, spilling to disk) is the aggregator's;
// dedup (all in memory) serves tests and benchmarks of the windowing.
type identitySet interface {
	// Add records id for an event at unix second sec and reports whether
	// it was already present.
	Add(id uint64, sec int64) (seen bool, err error)
	// Prune forgets identities whose whole event hour is before cutoffSec.
	Prune(cutoffSec int64) error
	Len() int
	Close() error
}

// dedup remembers event identities by the hour of their event time. A copy
// of an event has the same identity and the same event second, so it is
// looked up in one hourly bucket only, and pruning drops whole buckets.
type dedup struct {
	buckets map[int64]map[uint64]struct{}
	n       int
}

func newDedup() *dedup { return &dedup{buckets: make(map[int64]map[uint64]struct{})} }

// add records id for an event at unix second sec and reports whether it was
// already present.
func (d *dedup) Add(id uint64, sec int64) (seen bool, err error) {
	h := dedupstore.Hour(sec)
	b := d.buckets[h]
	if b == nil {
		b = make(map[uint64]struct{}, 1024)
		d.buckets[h] = b
	}
	if _, ok := b[id]; ok {
		return true, nil
	}
	b[id] = struct{}{}
	d.n++
	return false, nil
}

// prune forgets identities whose whole event hour is before cutoffSec.
func (d *dedup) Prune(cutoffSec int64) error {
	for h, b := range d.buckets {
		if (h+1)*3600 <= cutoffSec {
			d.n -= len(b)
			delete(d.buckets, h)
		}
	}
	return nil
}

func (d *dedup) Len() int { return d.n }

func (d *dedup) Close() error {
	clear(d.buckets)
	d.n = 0
	return nil
}
