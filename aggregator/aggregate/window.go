package aggregate

import (
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// windowKey identifies a window of one partition.
type windowKey struct {
	gran  metricdoc.Granularity
	start int64 // unix seconds
	meta  metricdoc.Meta
}

// window is the in-memory state of one live document.
type window struct {
	key        windowKey
	start, end time.Time
	totals     metricdoc.Totals
	// docOffset: the stored document includes the partition's events
	// before this offset, so replayed events below it are not applied again.
	docOffset int64
	dirty     bool // changed since the last store round
	pub       bool // changed since the last publish to aggregated_metrics
	// dirtyMs: record time of the event that made the window dirty, which
	// orders the windows a limited store round takes.
	dirtyMs int64
	final   bool // the live document is already marked final
}

// span caches the window that held the previous event of a granularity,
// since consecutive events mostly share it and time-zone math is not free.
type span struct {
	start, end time.Time
	startSec   int64
	endMs      int64
	startMs    int64
}

func (s *span) lookup(g metricdoc.Granularity, t time.Time, ms int64, loc *time.Location) {
	if ms >= s.startMs && ms < s.endMs {
		return
	}
	s.start = metricdoc.WindowStart(g, t, loc)
	s.end = metricdoc.WindowEnd(g, s.start, loc)
	s.startSec = s.start.Unix()
	s.startMs = s.start.UnixMilli()
	s.endMs = s.end.UnixMilli()
}

func (w *window) live(p int32, offset int64, now time.Time) metricdoc.Live {
	return metricdoc.Live{
		ID:          metricdoc.LiveID(w.key.gran, w.start, w.key.meta, p),
		Granularity: w.key.gran,
		WindowStart: w.start,
		WindowEnd:   w.end,
		Meta:        w.key.meta,
		Partition:   p,
		Totals:      w.totals,
		Offset:      offset,
		UpdatedAt:   now,
	}
}
