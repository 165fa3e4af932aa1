package simulate

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/event"
)

var faultyTraffic = TrafficOptions{DuplicateShare: 0.05, LateShare: 0.05, MalformedShare: 0.05, DropShare: 0.05}

func mustTraffic(t testing.TB, w *World, o TrafficOptions) *Traffic {
	t.Helper()
	tr, err := w.Traffic(o)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTrafficIsDeterministic(t *testing.T) {
	stream := func(seed int64) []byte {
		tr := mustTraffic(t, mustWorld(t, seed), faultyTraffic)
		var all bytes.Buffer
		for _, d := range tr.Take(3000) {
			all.WriteString(d.At.String())
			all.Write(d.JSON(false))
		}
		return all.Bytes()
	}
	a, b, c := stream(11), stream(11), stream(12)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed and options gave different deliveries")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same deliveries")
	}
}

func TestTrafficShares(t *testing.T) {
	w := mustWorld(t, 5)
	o := TrafficOptions{DuplicateShare: 0.1, LateShare: 0.2, MalformedShare: 0.05, DropShare: 0.08, Rate: 100}
	tr := mustTraffic(t, w, o)
	ds := tr.Take(30000)
	var dup, late, mal, drop, fresh float64
	for _, d := range ds {
		switch {
		case d.Duplicate:
			dup++
		case d.Malformed:
			mal++
			fresh++
		default:
			fresh++
			if d.Late {
				late++
			}
			if d.Dropped {
				drop++
			}
		}
	}
	valid := fresh - mal
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 0.02 {
			t.Errorf("%s share %.3f, want %.3f ± 0.02", name, got, want)
		}
	}
	near("malformed", mal/fresh, o.MalformedShare)
	near("late", late/valid, o.LateShare)
	near("dropped", drop/valid, o.DropShare)
	near("duplicate", dup/(valid-drop), o.DuplicateShare)
	st := tr.Stats()
	if st.Deliveries != int64(len(ds)) || st.Duplicates < int64(dup) || st.Malformed != int64(mal) || st.Dropped != int64(drop) {
		t.Fatalf("stats %+v disagree with deliveries (dup %v mal %v drop %v)", st, dup, mal, drop)
	}
	if int64(len(w.Events())) != st.Events {
		t.Fatalf("world holds %d events, stats say %d", len(w.Events()), st.Events)
	}
	// Rate: fresh deliveries per simulated second.
	span := ds[len(ds)-1].At.Sub(ds[0].At).Seconds()
	if r := fresh / span; math.Abs(r-o.Rate)/o.Rate > 0.05 {
		t.Errorf("rate %.1f/s, want %.0f/s", r, o.Rate)
	}
}

// Malformed deliveries are rejected by the aggregator's own parser with the
// reason they were built for, in every encoding.
func TestMalformedDeliveriesFailParse(t *testing.T) {
	tr := mustTraffic(t, mustWorld(t, 9), TrafficOptions{MalformedShare: 1})
	reasons := map[event.Reason]int{}
	for _, d := range tr.Take(400) {
		if !d.Malformed || d.Event != nil {
			t.Fatalf("delivery %d not malformed", d.Seq)
		}
		var e event.Event
		for _, typed := range []bool{false, true} {
			if r := event.ReasonOf(event.Parse(d.JSON(typed), &e)); r != d.Reason {
				t.Fatalf("delivery %d (typed %v): reason %q, want %q: %s", d.Seq, typed, r, d.Reason, d.JSON(typed))
			}
		}
		want := d.Reason
		if want == event.ReasonBadJSON {
			want = event.ReasonMissingField
		}
		if r := event.ReasonOf(event.Parse(appsflyer.PushQueryToJSON(d.Query()), &e)); r != want {
			t.Fatalf("delivery %d as GET query: reason %q, want %q", d.Seq, r, want)
		}
		reasons[d.Reason]++
	}
	for _, r := range []event.Reason{event.ReasonBadJSON, event.ReasonBadTime, event.ReasonBadPlatform, event.ReasonMissingField} {
		if reasons[r] < 50 {
			t.Errorf("reason %s only %d times in 400", r, reasons[r])
		}
	}
	if len(mustWorld(t, 9).Events()) != 0 {
		t.Fatal("a fresh world must hold no events")
	}
}

func TestTrafficRealism(t *testing.T) {
	w := mustWorld(t, 21)
	o := TrafficOptions{LateShare: 0.1, DuplicateShare: 0.05}
	o = o.WithDefaults()
	tr := mustTraffic(t, w, o)
	afID := regexp.MustCompile(`^\d{13}-\d{7,19}$`)
	pushTime := regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$`)
	var prevAt time.Time
	var gaps []time.Duration
	campaigns := map[string]int{}
	countries := map[string]int{}
	names := map[string]int{}
	for _, d := range tr.Take(20000) {
		if d.At.Before(prevAt) {
			t.Fatalf("delivery %d goes back in time", d.Seq)
		}
		prevAt = d.At
		f := d.Fields()
		for k, v := range f {
			if v == "" {
				t.Fatalf("empty value for %s", k)
			}
		}
		if f["api_version"] != "2.0" || !afID.MatchString(f["appsflyer_id"]) || !pushTime.MatchString(f["event_time"]) || !pushTime.MatchString(f["install_time"]) {
			t.Fatalf("bad shape: %v", f)
		}
		var e event.Event
		if err := event.Parse(d.JSON(false), &e); err != nil {
			t.Fatalf("valid delivery rejected: %v", err)
		}
		lag := d.At.Sub(e.Time)
		switch {
		case d.Late && !d.Duplicate && (lag < o.MinLateness || lag > o.MaxLateness):
			t.Fatalf("late delivery lag %v outside [%v, %v]", lag, o.MinLateness, o.MaxLateness)
		case !d.Late && !d.Duplicate && (lag < 0 || lag > o.MaxDelay+time.Millisecond):
			t.Fatalf("on-time delivery lag %v outside [0, %v]", lag, o.MaxDelay)
		}
		install := d.Event.User.InstallTime
		if e.Time.Before(install) {
			t.Fatalf("event before its install: %v < %v", e.Time, install)
		}
		names[e.EventName]++
		countries[f["country_code"]]++
		if e.EventName != "install" {
			gaps = append(gaps, e.Time.Sub(install))
		}
		switch e.MediaSource {
		case OrganicSource, RestrictedSource:
			for _, k := range []string{"campaign", "af_c_id", "af_adset", "af_ad", "attributed_touch_time", "attributed_touch_type", "af_channel", "af_siteid"} {
				if _, ok := f[k]; ok {
					t.Fatalf("%s event carries attribution field %s", e.MediaSource, k)
				}
			}
		default:
			if e.Campaign == "" || f["attributed_touch_time"] == "" {
				t.Fatalf("attributed event without campaign: %v", f)
			}
			campaigns[e.AppID+"/"+e.MediaSource+"/"+e.Campaign]++
		}
		if e.EventName == "af_purchase" {
			if !e.HasRevenue || e.RevenueMicros <= 0 || e.RevenueUSDMicros <= 0 || e.Currency != d.Event.User.App.Currency {
				t.Fatalf("purchase without revenue: %+v", e)
			}
			var v map[string]string
			if err := json.Unmarshal([]byte(f["event_value"]), &v); err != nil || v["af_revenue"] != f["event_revenue"] {
				t.Fatalf("purchase event_value %q", f["event_value"])
			}
		} else if e.HasRevenue {
			t.Fatalf("%s has revenue", e.EventName)
		}
	}
	if countries["GB"] != 0 || countries["UK"] == 0 {
		t.Errorf("country codes must use UK, not GB: %v", countries)
	}
	for _, n := range []string{"install", "af_purchase", "af_complete_registration", "af_level_achieved"} {
		if names[n] == 0 {
			t.Errorf("no %s events", n)
		}
	}
	var minute, day int
	for _, g := range gaps {
		if g < 10*time.Minute {
			minute++
		}
		if g > 24*time.Hour {
			day++
		}
	}
	if minute == 0 || day == 0 {
		t.Errorf("install->event gaps lack spread: %d under 10m, %d over a day of %d", minute, day, len(gaps))
	}
	// Zipf: per app and source, the top campaign beats the median one.
	top := map[string]int{}
	for k, n := range campaigns {
		p := k[:strings.LastIndex(k, "/")]
		top[p] = max(top[p], n)
	}
	for p, n := range top {
		var sum int
		for k, m := range campaigns {
			if strings.HasPrefix(k, p+"/") {
				sum += m
			}
		}
		if sum > 200 && float64(n) < 1.5*float64(sum)/8 {
			t.Errorf("%s: top campaign %d of %d: popularity not skewed", p, n, sum)
		}
	}
}

func TestDuplicateCopiesAreIdentical(t *testing.T) {
	tr := mustTraffic(t, mustWorld(t, 4), TrafficOptions{DuplicateShare: 0.5})
	first := map[*Event]Delivery{}
	copies := 0
	for _, d := range tr.Take(2000) {
		if !d.Duplicate {
			first[d.Event] = d
			continue
		}
		copies++
		orig, ok := first[d.Event]
		if !ok {
			t.Fatal("copy before its original")
		}
		gap := d.At.Sub(orig.At)
		if !bytes.Equal(orig.JSON(false), d.JSON(false)) || gap < time.Second || gap > 30*time.Second {
			t.Fatalf("copy differs or gap %v out of [1s, 30s]", gap)
		}
	}
	if copies < 300 {
		t.Fatalf("only %d copies", copies)
	}
}

func TestTrafficUntilAndTypedJSON(t *testing.T) {
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tr := mustTraffic(t, mustWorld(t, 2), TrafficOptions{Start: start, Rate: 20})
	ds := tr.Until(start.Add(time.Minute))
	if n := len(ds); n < 1000 || n > 1400 {
		t.Fatalf("%d deliveries in a minute at 20/s", n)
	}
	for _, d := range ds {
		if !d.At.Before(start.Add(time.Minute)) {
			t.Fatal("Until returned a delivery past the end")
		}
	}
	var typed map[string]any
	var found bool
	for _, d := range ds {
		if err := json.Unmarshal(d.JSON(true), &typed); err != nil {
			t.Fatal(err)
		}
		if _, ok := typed["wifi"].(bool); !ok {
			t.Fatalf("typed wifi is %T", typed["wifi"])
		}
		if r, ok := typed["event_revenue"]; ok {
			if _, isNum := r.(float64); !isNum {
				t.Fatalf("typed revenue is %T", r)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no revenue event in a minute")
	}
}

func TestTrafficOptionsValidate(t *testing.T) {
	w := mustWorld(t, 1)
	for name, o := range map[string]TrafficOptions{
		FlagDuplicateShare: {DuplicateShare: 1.5},
		FlagRate:           {Rate: -1},
		FlagLateMin:        {MinLateness: time.Hour, MaxLateness: time.Minute},
		FlagDuplicateDelay: {DuplicateDelay: time.Millisecond},
		FlagUsers:          {Users: 2},
	} {
		if _, err := w.Traffic(o); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the option", name, err)
		}
	}
}
