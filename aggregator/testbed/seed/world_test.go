package seed

import (
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestWorldIsStoredAsTheAggregatorStoresIt: every window of the truth is a
// live document while open (a day stays open while an hour of it is), and once its partition has finalized it is in
// the time-series collection (twice where the world duplicates appends),
// with a final, expiring live copy only within the kept windows; a day's
// totals are its hours; windows without activity are not stored at all.
func TestWorldIsStoredAsTheAggregatorStoresIt(t *testing.T) {
	now := time.Date(2026, 11, 26, 5, 30, 0, 0, time.UTC)
	w := World{
		Now:   now,
		Metas: []metricdoc.Meta{{AppID: "a", EventName: metricdoc.InstallEventName}, {AppID: "b", EventName: metricdoc.InstallEventName}},
		Activity: func(m metricdoc.Meta, p int32, hour time.Time) metricdoc.Totals {
			if m.AppID == "b" && hour.Hour()%2 == 0 {
				return metricdoc.Totals{} // b is idle every other hour
			}
			return metricdoc.Totals{Events: int64(hour.Hour()+1) * int64(p+1)}
		},
		Hours: 30, Days: 3, OpenHours: []int{1, 7}, FinalLiveHours: 4, FinalLiveDays: 1, DuplicateEvery: 3,
	}
	tr, docs, err := w.build()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC); !tr.FirstHour.Equal(want) {
		t.Fatalf("first hour %s, want %s", tr.FirstHour, want)
	}
	// Partition 1 has not finalized the last hour of the 25th, so not the 25th either.
	if got, want := tr.FinalizedThrough(metricdoc.Hour), time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("finalized through %s, want %s (the slower partition)", got, want)
	}
	if got, want := tr.FinalizedThrough(metricdoc.Day), time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("days finalized through %s, want %s", got, want)
	}

	live := map[string]metricdoc.Live{}
	for _, d := range docs[metricdoc.CollLive] {
		l := d.(metricdoc.Live)
		live[l.ID] = l
	}
	appended := map[string]int{}
	for g, coll := range map[metricdoc.Granularity]string{metricdoc.Hour: metricdoc.CollHourly, metricdoc.Day: metricdoc.CollDaily} {
		for _, d := range docs[coll] {
			f := d.(metricdoc.Final)
			appended[metricdoc.FinalKey(g, &f)]++
		}
	}
	finals, twice, kept := 0, 0, 0
	for _, c := range tr.Cells {
		if c.Totals.Events == 0 {
			t.Errorf("%s %s of %s: a window without activity is stored", c.Granularity, c.Window, c.Meta.AppID)
		}
		id := metricdoc.LiveID(c.Granularity, c.Window, c.Meta, c.Partition)
		l, inLive := live[id]
		if !c.Window.Before(tr.Checkpoints[c.Partition].Finalized(c.Granularity)) {
			if !inLive || l.Final || l.ExpireAt != nil || appended[id] != 0 || l.Totals != c.Totals {
				t.Errorf("open window %s: live %+v (found %v), appended %d times", id, l, inLive, appended[id])
			}
			continue
		}
		finals++
		if appended[id] == 2 {
			twice++
		} else if appended[id] != 1 {
			t.Errorf("final window %s appended %d times", id, appended[id])
		}
		keptSince := now.Truncate(time.Hour).Add(-4 * time.Hour)
		if c.Granularity == metricdoc.Day {
			keptSince = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
		}
		if wantLive := !c.Window.Before(keptSince); inLive != wantLive || inLive && (!l.Final || l.ExpireAt == nil) {
			t.Errorf("final window %s: live copy %+v (found %v), want one: %v", id, l, inLive, wantLive)
		}
		if inLive {
			kept++
		}
	}
	if twice != finals/3 || finals == 0 || kept == 0 {
		t.Errorf("%d of %d final windows appended twice (want every third), %d live copies kept", twice, finals, kept)
	}
	if len(live) != len(tr.Cells)-finals+kept {
		t.Errorf("%d live documents, want %d", len(live), len(tr.Cells)-finals+kept)
	}

	// The 25th is stored hour by hour: its day is the sum of its hours.
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, m := range w.Metas {
		for p := range int32(2) {
			of := func(g metricdoc.Granularity) int64 {
				return tr.Sum(func(c *Cell) bool {
					return c.Granularity == g && c.Meta == m && c.Partition == p && !c.Window.Before(day) && c.Window.Before(day.AddDate(0, 0, 1))
				}).Events
			}
			if hours, days := of(metricdoc.Hour), of(metricdoc.Day); hours != days || days == 0 {
				t.Errorf("%s partition %d on %s: hours sum to %d, the day holds %d", m.AppID, p, day.Format(time.DateOnly), hours, days)
			}
		}
	}
}
