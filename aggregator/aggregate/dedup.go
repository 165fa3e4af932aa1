package aggregate

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
func (d *dedup) add(id uint64, sec int64) (seen bool) {
	h := floorDiv(sec, 3600)
	b := d.buckets[h]
	if b == nil {
		b = make(map[uint64]struct{}, 1024)
		d.buckets[h] = b
	}
	if _, ok := b[id]; ok {
		return true
	}
	b[id] = struct{}{}
	d.n++
	return false
}

// prune forgets identities whose whole event hour is before cutoffSec.
func (d *dedup) prune(cutoffSec int64) {
	for h, b := range d.buckets {
		if (h+1)*3600 <= cutoffSec {
			d.n -= len(b)
			delete(d.buckets, h)
		}
	}
}

func (d *dedup) len() int { return d.n }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
