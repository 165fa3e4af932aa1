package metricdoc

import "time"

// WindowStart returns the start of the window of granularity g that holds t,
// with boundaries in loc. Hour windows follow the zone's offset at t (so a
// +05:30 zone gets half-past boundaries) and are always exactly one hour
// long, even across a DST change. Day windows start at local midnight and
// last 23, 24 or 25 hours.
func WindowStart(g Granularity, t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	if g == Day {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	_, off := t.Zone()
	sec := t.Unix() + int64(off)
	rem := sec % 3600
	if rem < 0 {
		rem += 3600
	}
	return time.Unix(t.Unix()-rem, 0).In(loc)
}

// WindowEnd returns the exclusive end of the window of granularity g that
// starts at start.
func WindowEnd(g Granularity, start time.Time, loc *time.Location) time.Time {
	if g == Day {
		s := start.In(loc)
		y, m, d := s.Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	return start.Add(time.Hour)
}
