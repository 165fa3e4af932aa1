package simulate

import (
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Windows worked out by hand in a +05:30 zone, where hour windows start at
// half past UTC hours and the day starts at 18:30 UTC the day before.
func TestTruthHandComputed(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	tr := NewTruth(kolkata)
	install := `{"app_id":"id1","appsflyer_id":"1-1","event_name":"install","event_time":"2026-11-26 10:15:00.500","platform":"ios","media_source":"Facebook Ads","campaign":"X","event_revenue_currency":"EUR"}`
	pulledCopy := `{"app_id":"id1","appsflyer_id":"1-1","event_name":"install","event_time":"2026-11-26 10:15:00","platform":"ios","media_source":"Facebook Ads","campaign":"X","event_source":"SDK"}`
	purchase := `{"app_id":"id1","appsflyer_id":"1-1","event_name":"af_purchase","event_time":"2026-11-26 10:45:00.000","platform":"ios","media_source":"Facebook Ads","campaign":"X","event_revenue":"9.99","event_revenue_currency":"EUR","event_revenue_usd":"10.8"}`
	purchase2 := `{"app_id":"id1","appsflyer_id":"1-2","event_name":"af_purchase","event_time":"2026-11-26 10:59:59.999","platform":"ios","media_source":"Facebook Ads","campaign":"X","event_revenue":"0.01","event_revenue_currency":"EUR","event_revenue_usd":"0.0108"}`
	for _, c := range []struct {
		raw     string
		outcome Outcome
		reason  event.Reason
	}{
		{install, Counted, ""},
		{pulledCopy, Duplicate, ""},
		{purchase, Counted, ""},
		{purchase2, Counted, ""},
		{`{"app_id":`, Malformed, event.ReasonBadJSON},
		{`{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"amiga"}`, Malformed, event.ReasonBadPlatform},
	} {
		if o, r := tr.Observe([]byte(c.raw)); o != c.outcome || r != c.reason {
			t.Fatalf("Observe(%.40s...) = %v %q, want %v %q", c.raw, o, r, c.outcome, c.reason)
		}
	}
	installMeta := metricdoc.Meta{AppID: "id1", MediaSource: "Facebook Ads", Campaign: "X", Platform: "ios", EventName: "install"}
	buyMeta := metricdoc.Meta{AppID: "id1", MediaSource: "Facebook Ads", Campaign: "X", Platform: "ios", EventName: "af_purchase", Currency: "EUR"}
	utc := func(h, m int) time.Time { return time.Date(2026, 11, 26, h, m, 0, 0, time.UTC) }
	wantHour := map[WindowKey]metricdoc.Totals{
		{utc(9, 30), installMeta}: {Events: 1}, // 15:45 IST is in 15:00-16:00 IST
		{utc(10, 30), buyMeta}:    {Events: 2, RevenueMicros: 10_000_000, RevenueUSDMicros: 10_810_800},
	}
	wantDay := map[WindowKey]metricdoc.Totals{
		{time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC), installMeta}: {Events: 1},
		{time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC), buyMeta}:     {Events: 2, RevenueMicros: 10_000_000, RevenueUSDMicros: 10_810_800},
	}
	for g, want := range map[metricdoc.Granularity]map[WindowKey]metricdoc.Totals{metricdoc.Hour: wantHour, metricdoc.Day: wantDay} {
		got := tr.Windows(g)
		if len(got) != len(want) {
			t.Fatalf("%s windows: got %v, want %v", g, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s window %v %+v: got %+v, want %+v", g, k.Start, k.Meta, got[k], v)
			}
		}
	}
	if tr.Window(metricdoc.Hour, utc(10, 30).In(kolkata), buyMeta).Events != 2 {
		t.Error("Window lookup must accept a start in any zone")
	}
	if tr.Produced() != 6 || tr.Unique() != 3 || tr.Duplicates() != 1 || tr.Malformed() != 2 ||
		tr.MalformedBy()[event.ReasonBadJSON] != 1 || tr.Total().Events != 3 || tr.Location() != kolkata {
		t.Fatalf("counts: produced %d unique %d dup %d malformed %d total %+v", tr.Produced(), tr.Unique(), tr.Duplicates(), tr.Malformed(), tr.Total())
	}
}

func sumWindows(ws map[WindowKey]metricdoc.Totals) metricdoc.Totals {
	var s metricdoc.Totals
	for _, v := range ws {
		s.Add(v)
	}
	return s
}

func TestTruthConsistency(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	w := mustWorld(t, 31)
	tr := mustTraffic(t, w, TrafficOptions{DuplicateShare: 0.1, LateShare: 0.1, MalformedShare: 0.05, DropShare: 0.1, Rate: 200})
	ds := tr.Take(20000)
	push := NewTruth(paris)
	push.ObserveDeliveries(ds, false)

	var sent, malformed int64
	distinct := map[*Event]bool{}
	for _, d := range ds {
		if d.Dropped {
			continue
		}
		sent++
		if d.Malformed {
			malformed++
		} else {
			distinct[d.Event] = true
		}
	}
	if push.Produced() != sent || push.Malformed() != malformed || push.Unique() != int64(len(distinct)) ||
		push.Produced() != push.Unique()+push.Duplicates()+push.Malformed() {
		t.Fatalf("produced %d (sent %d) = unique %d (distinct %d) + dup %d + malformed %d (%d)",
			push.Produced(), sent, push.Unique(), len(distinct), push.Duplicates(), push.Malformed(), malformed)
	}
	for _, g := range metricdoc.Granularities {
		if s := sumWindows(push.Windows(g)); s != push.Total() || s.Events != push.Unique() {
			t.Fatalf("%s windows sum to %+v, total %+v, unique %d", g, s, push.Total(), push.Unique())
		}
	}
	all := w.Truth(paris)
	if all.Unique() != int64(len(w.Events())) || all.Duplicates() != 0 || all.Malformed() != 0 || all.Unique() != tr.Stats().Events {
		t.Fatalf("world truth: unique %d dup %d malformed %d; world has %d events", all.Unique(), all.Duplicates(), all.Malformed(), len(w.Events()))
	}
	if all.Unique() <= push.Unique() {
		t.Fatal("dropped pushes must leave events only the world truth has")
	}
	// Truth is deterministic for a seed.
	w2 := mustWorld(t, 31)
	mustTraffic(t, w2, TrafficOptions{DuplicateShare: 0.1, LateShare: 0.1, MalformedShare: 0.05, DropShare: 0.1, Rate: 200}).Take(20000)
	again := w2.Truth(paris).Windows(metricdoc.Hour)
	for k, v := range all.Windows(metricdoc.Hour) {
		if again[k] != v {
			t.Fatalf("window %v differs between runs of one seed", k)
		}
	}
}
