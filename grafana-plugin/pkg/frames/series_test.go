package frames

import (
	"testing"
	"time"
)

func TestWindowIndex(t *testing.T) {
	even := hours(4)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	uneven := []time.Time{ // days around the end of DST: 25 hours apart once
		time.Date(2026, 10, 24, 0, 0, 0, 0, berlin), time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), time.Date(2026, 10, 26, 0, 0, 0, 0, berlin),
	}
	for name, ws := range map[string][]time.Time{"even": even, "uneven": uneven, "single": even[:1]} {
		ix := newWindowIndex(ws)
		for i, w := range ws {
			if got, ok := ix.lookup(w.Unix()); !ok || got != i {
				t.Errorf("%s: window %d found at %d, %v", name, i, got, ok)
			}
		}
		for _, off := range []int64{-3600, 1, 1800} {
			if _, ok := ix.lookup(ws[0].Unix() + off); ok {
				t.Errorf("%s: offset %d found", name, off)
			}
		}
		if _, ok := ix.lookup(ws[len(ws)-1].Unix() + 86400*2); ok {
			t.Errorf("%s: past the end found", name)
		}
	}
}
