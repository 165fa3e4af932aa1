package aggregate

import (
	"fmt"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

func rawEvent(app, afid, name, at, platform, revenue string) []byte {
	s := fmt.Sprintf(`{"app_id":%q,"appsflyer_id":%q,"event_name":%q,"event_time":%q,"platform":%q,"media_source":"fb","campaign":"c1"`,
		app, afid, name, at, platform)
	if revenue != "" {
		s += fmt.Sprintf(`,"event_revenue":%q,"event_revenue_currency":"EUR"`, revenue)
	}
	return []byte(s + "}")
}

func testRules(loc *time.Location) *rules {
	o := Options{Brokers: []string{"x"}, Location: loc}
	o = o.WithDefaults()
	return o.rules()
}

// TestDecisions walks one partition through every outcome.
func TestDecisions(t *testing.T) {
	ps := newPartState(0, testRules(time.UTC))
	rec := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixMilli()
	steps := []struct {
		name string
		raw  []byte
		want outcome
	}{
		{"first", rawEvent("a", "1", "install", "2026-11-26 10:00:00.250", "ios", ""), outCounted},
		{"pull copy without ms", rawEvent("a", "1", "install", "2026-11-26 10:00:00", "ios", ""), outDuplicate},
		{"newest moves the watermark", rawEvent("a", "2", "install", "2026-11-26 11:59:00", "ios", ""), outCounted},
		{"late but within correction", rawEvent("a", "3", "install", "2026-11-25 12:00:00", "ios", ""), outCounted},
		{"beyond correction horizon", rawEvent("a", "4", "install", "2026-11-25 09:58:59", "ios", ""), outTooLate},
		{"duplicate of a too-late event is too late", rawEvent("a", "4", "install", "2026-11-25 09:58:59", "ios", ""), outTooLate},
		{"malformed", []byte(`{"app_id":`), outDeadLettered},
		{"unknown platform", rawEvent("a", "5", "install", "2026-11-26 11:00:00", "amiga", ""), outDeadLettered},
		{"from the future", rawEvent("a", "6", "install", "2026-11-26 13:00:01", "ios", ""), outDeadLettered},
		{"purchase with revenue", rawEvent("a", "1", "af_purchase", "2026-11-26 10:30:00", "android", "4.99"), outCounted},
	}
	late := 0
	for i, s := range steps {
		o, _ := ps.process(s.raw, int64(i), rec, metricdoc.SourcePush)
		if o != s.want {
			t.Errorf("%s: outcome %s, want %s", s.name, o, s.want)
		}
		if o == outCounted && ps.late {
			late++
		}
	}
	if late != 1 {
		t.Errorf("%d late corrections, want 1 (the event a day late)", late)
	}
	if ps.tally.offset != int64(len(steps)) || ps.tally.counts != [numOutcomes]int64{4, 1, 2, 3} {
		t.Fatalf("tally = %+v", ps.tally)
	}
	h10 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	inst := windowKey{gran: metricdoc.Hour, start: h10.Unix(), meta: metricdoc.Meta{AppID: "a", MediaSource: "fb", Campaign: "c1", Platform: "ios", EventName: "install"}}
	if w := ps.windows[inst]; w == nil || w.totals.Events != 1 {
		t.Fatalf("install window of 10:00 = %+v, want 1 event", w)
	}
	buy := windowKey{gran: metricdoc.Day, start: h10.Truncate(24 * time.Hour).Unix(), meta: metricdoc.Meta{AppID: "a", MediaSource: "fb", Campaign: "c1", Platform: "android", EventName: "af_purchase", Currency: "EUR"}}
	if w := ps.windows[buy]; w == nil || w.totals.RevenueMicros != 4_990_000 {
		t.Fatalf("purchase day window = %+v, want 4.99 EUR", w)
	}
	if got := ps.watermark(); !got.Equal(time.Date(2026, 11, 26, 9, 59, 0, 0, time.UTC)) {
		t.Fatalf("watermark = %v", got)
	}
	if f := ps.finalizable(metricdoc.Hour); len(f) != 0 {
		t.Fatalf("finalizable hours = %d, want none yet", len(f))
	}
}

// TestDailyWindowsAcrossDST checks day windows in Europe/Paris on the
// spring-forward (23 h) and fall-back (25 h) days of 2026.
func TestDailyWindowsAcrossDST(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	ps := newPartState(0, testRules(paris))
	rec := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC).UnixMilli()
	// UTC instants: last second of the day before, first of the day, and
	// last second of the DST day.
	events := []string{
		"2026-03-28T22:59:59Z", // 23:59:59 CET on Mar 28
		"2026-03-28T23:00:00Z", // 00:00 CET on Mar 29
		"2026-03-29T21:59:59Z", // 23:59:59 CEST on Mar 29 (23 h day)
		"2026-10-24T21:59:59Z", // 23:59:59 CEST on Oct 24
		"2026-10-24T22:00:00Z", // 00:00 CEST on Oct 25
		"2026-10-25T22:59:59Z", // 23:59:59 CET on Oct 25 (25 h day)
	}
	for i, at := range events {
		if o, r := ps.process(rawEvent("a", fmt.Sprint(i), "install", at, "ios", ""), int64(i), rec, "push"); o != outCounted {
			t.Fatalf("event %s: %s %s", at, o, r)
		}
	}
	type day struct {
		start, end time.Time
		events     int64
	}
	var got []day
	for k, w := range ps.windows {
		if k.gran == metricdoc.Day {
			got = append(got, day{w.start, w.end, w.totals.Events})
		}
	}
	want := map[string]day{
		"2026-03-28": {time.Date(2026, 3, 27, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), 1},
		"2026-03-29": {time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC), 2},
		"2026-10-24": {time.Date(2026, 10, 23, 22, 0, 0, 0, time.UTC), time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC), 1},
		"2026-10-25": {time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC), 2},
	}
	if len(got) != len(want) {
		t.Fatalf("%d day windows, want %d: %+v", len(got), len(want), got)
	}
	for _, d := range got {
		name := d.start.In(paris).Format("2006-01-02")
		w, ok := want[name]
		if !ok || !d.start.Equal(w.start) || !d.end.Equal(w.end) || d.events != w.events {
			t.Errorf("day %s = %v..%v (%d events), want %v..%v (%d)", name, d.start, d.end, d.events, w.start, w.end, w.events)
		}
	}
	if h := ps.windows[windowKey{gran: metricdoc.Hour, start: time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC).Unix(),
		meta: metricdoc.Meta{AppID: "a", MediaSource: "fb", Campaign: "c1", Platform: "ios", EventName: "install"}}]; h == nil || h.end.Sub(h.start) != time.Hour {
		t.Fatalf("hour window at local midnight = %+v", h)
	}
}

// TestRestoreReachesTheSameDecisions cuts a stream at every offset,
// restores a fresh partition from the checkpoint + replay, and checks that
// the rest of the stream gets the same outcomes as without the cut.
func TestRestoreReachesTheSameDecisions(t *testing.T) {
	r := testRules(time.UTC)
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var stream [][]byte
	var recMs []int64
	for i := 0; i < 300; i++ {
		c := base.Add(time.Duration(i) * 10 * time.Minute)
		at := c.Add(-time.Duration(i%7) * 20 * time.Minute)
		switch {
		case i%11 == 0 && i > 0: // copy of an earlier event
			stream = append(stream, stream[i-3])
			recMs = append(recMs, c.UnixMilli())
			continue
		case i%13 == 0: // very late
			at = c.Add(-30 * time.Hour)
		}
		stream = append(stream, rawEvent("a", fmt.Sprint(i%40), "install", at.Format(time.RFC3339), "ios", ""))
		recMs = append(recMs, c.UnixMilli())
	}
	full := newPartState(0, r)
	want := make([]outcome, len(stream))
	for i, raw := range stream {
		want[i], _ = full.process(raw, int64(i), recMs[i], "push")
	}
	for cut := 1; cut < len(stream); cut += 7 {
		a := newPartState(0, r)
		for i := 0; i < cut; i++ {
			a.process(stream[i], int64(i), recMs[i], "push")
		}
		cp := a.checkpoint("raw_events", time.Now())
		b := newPartState(0, r)
		b.restore(cp, nil)
		for i := 0; i < cut; i++ { // replay from the start
			b.replay(stream[i], int64(i), recMs[i])
		}
		// c restores from a's changelog record instead.
		c := newPartState(0, r)
		c.restore(cp, nil)
		rec, err := decodeChangelog(encodeChangelog(0, int64(cut), true, a.logged), nil)
		if err != nil || rec.from != 0 || rec.to != int64(cut) || !rec.base || len(rec.entries) != len(a.logged) {
			t.Fatalf("changelog round trip: %+v, %v", rec, err)
		}
		if _, err := restoreEntries(c.dedup, rec.entries, cp.Offset, time.UnixMilli(c.replayCutoffMs).Unix()); err != nil {
			t.Fatal(err)
		}
		for _, rs := range []*partState{b, c} {
			for i := cut; i < len(stream); i++ {
				if got, _ := rs.process(stream[i], int64(i), recMs[i], "push"); got != want[i] {
					t.Fatalf("cut at %d: record %d is %s after restore, %s without", cut, i, got, want[i])
				}
			}
			if rs.tally != full.tally {
				t.Fatalf("cut at %d: tally %+v, want %+v", cut, rs.tally, full.tally)
			}
		}
	}
}

func TestDedupPrunesWholeHours(t *testing.T) {
	d := newDedup()
	for s := int64(0); s < 3*3600; s += 60 {
		if seen, _ := d.Add(uint64(s), s); seen {
			t.Fatalf("fresh identity %d reported seen", s)
		}
	}
	if seen, _ := d.Add(60, 60); !seen || d.Len() != 180 {
		t.Fatalf("len %d", d.Len())
	}
	_ = d.Prune(3600 + 1800) // hour 0 ends before the cutoff, hour 1 does not
	if seen, _ := d.Add(3600, 3600); d.Len() != 120 || !seen {
		t.Fatalf("after prune len %d", d.Len())
	}
}
