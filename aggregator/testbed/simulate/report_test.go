package simulate

import (
	"errors"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// pullRows downloads a report and returns its header and parsed rows.
func (f *pullFixture) pullRows(t *testing.T, app, report string, q url.Values, loc *time.Location) ([]string, []event.Event, [][]byte) {
	t.Helper()
	resp, body := f.get(t, f.url(app, report, q), testToken, true)
	if err := appsflyer.CheckResponse(resp.StatusCode, body); err != nil {
		t.Fatalf("%s %s: %v", app, report, err)
	}
	r, err := appsflyer.NewRowReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	r.SetLocation(loc)
	header := strings.Split(strings.SplitN(string(body), "\n", 2)[0], ",")
	var evs []event.Event
	var raws [][]byte
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			return header, evs, raws
		}
		if err != nil {
			t.Fatalf("line %d: %v", r.Line(), err)
		}
		var e event.Event
		if err := event.Parse(b, &e); err != nil {
			t.Fatalf("pulled row does not parse: %v: %s", err, b)
		}
		evs = append(evs, e)
		raws = append(raws, append([]byte(nil), b...))
	}
}

// expected lists the world's events of a report by the simulator's own
// definition, computed independently of the store.
func expected(w *World, app, report string, from, to time.Time, keep func(*Event) bool) map[uint64]bool {
	out := map[uint64]bool{}
	for _, e := range w.Events() {
		sec := e.Time.Truncate(time.Second)
		if e.User.App.ID != app || sec.Before(from) || !sec.Before(to) {
			continue
		}
		inApp, organic := e.Name != "install", e.User.Source.Name == "organic"
		if inApp != appsflyer.IsInAppReport(report) || organic != appsflyer.IsOrganicReport(report) {
			continue
		}
		if keep != nil && !keep(e) {
			continue
		}
		ev := event.Event{AppID: app, AppsFlyerID: e.User.AppsFlyerID, EventName: e.Name, Time: e.Time}
		out[ev.Identity()] = true
	}
	return out
}

func identities(evs []event.Event) map[uint64]bool {
	out := map[uint64]bool{}
	for i := range evs {
		out[evs[i].Identity()] = true
	}
	return out
}

func TestReportsServeTheWorld(t *testing.T) {
	f := newPullFixture(t, ServerOptions{}, TrafficOptions{LateShare: 0.2})
	day := window("2026-11-26", "2026-11-26")
	day.Set("additional_fields", "device_category,contributor1_match_type,match_type")
	var total int
	for _, app := range f.w.Apps {
		for _, report := range appsflyer.Reports {
			header, evs, raws := f.pullRows(t, app.ID, report, day, nil)
			want := slices.Concat(strings.Split(strings.TrimSpace(string(mustRead(t, "../../appsflyer/testdata/default_header.csv"))), ","),
				[]string{"Device Category", "Contributor 1 Match Type", "Match Type"})
			if !slices.Equal(header, want) {
				t.Fatalf("header %v", header)
			}
			exp := expected(f.w, app.ID, report, fixtureStart.Truncate(24*time.Hour), fixtureStart.Truncate(24*time.Hour).Add(24*time.Hour), nil)
			got := identities(evs)
			if len(got) != len(evs) || len(got) != len(exp) {
				t.Fatalf("%s %s: %d rows (%d distinct), want %d", app.ID, report, len(evs), len(got), len(exp))
			}
			for id := range exp {
				if !got[id] {
					t.Fatalf("%s %s: an expected event is missing", app.ID, report)
				}
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].Time.After(evs[i-1].Time) {
					t.Fatalf("%s %s: rows not newest first", app.ID, report)
				}
			}
			for _, b := range raws {
				if strings.Contains(string(b), `"api_version"`) || !strings.Contains(string(b), `"device_category":"phone"`) {
					t.Fatalf("row fields wrong: %s", b)
				}
			}
			total += len(evs)
		}
	}
	if total != len(f.w.Events()) {
		t.Fatalf("the four reports hold %d rows, the world %d events", total, len(f.w.Events()))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// from is inclusive; to covers its whole unit (day, minute or second).
func TestReportRangeSemantics(t *testing.T) {
	f := newPullFixture(t, ServerOptions{Direct: true}, TrafficOptions{})
	app := f.w.Apps[0].ID
	at := func(h, m, s int) time.Time { return time.Date(2026, 11, 26, h, m, s, 0, time.UTC) }
	for _, c := range []struct {
		from, to   string
		wFrom, wTo time.Time
	}{
		{"2026-11-26 10:03", "2026-11-26 10:05", at(10, 3, 0), at(10, 6, 0)},
		{"2026-11-26 10:03:30", "2026-11-26 10:04:29", at(10, 3, 30), at(10, 4, 30)},
		{"2026-11-26 10:02:00", "2026-11-26 10:02:00", at(10, 2, 0), at(10, 2, 1)},
	} {
		_, evs, _ := f.pullRows(t, app, appsflyer.ReportInAppEvents, window(c.from, c.to), nil)
		exp := expected(f.w, app, appsflyer.ReportInAppEvents, c.wFrom, c.wTo, nil)
		if got := identities(evs); len(got) != len(exp) || len(exp) == 0 && c.to != c.from {
			t.Fatalf("from=%s to=%s: %d rows, want %d", c.from, c.to, len(got), len(exp))
		}
	}
}

func TestReportTimezoneAndEventFilter(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	f := newPullFixture(t, ServerOptions{}, TrafficOptions{})
	app := f.w.Apps[0].ID
	// 19:00-19:09 in Tokyo is 10:00-10:09 UTC.
	q := url.Values{"from": {"2026-11-26 19:00"}, "to": {"2026-11-26 19:04"}, "timezone": {"Asia/Tokyo"}, "event_name": {"af_purchase,af_level_achieved"}}
	resp, body := f.get(t, f.url(app, appsflyer.ReportInAppEvents, q), testToken, true)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "2026-11-26 19:0") {
		t.Fatalf("times must be rendered in the requested zone: %d", resp.StatusCode)
	}
	_, evs, _ := f.pullRows(t, app, appsflyer.ReportInAppEvents, q, tokyo)
	keep := func(e *Event) bool { return e.Name == "af_purchase" || e.Name == "af_level_achieved" }
	exp := expected(f.w, app, appsflyer.ReportInAppEvents, fixtureStart, fixtureStart.Add(5*time.Minute), keep)
	if got := identities(evs); len(got) != len(exp) || len(exp) == 0 {
		t.Fatalf("%d rows, want %d", len(got), len(exp))
	}
	for id := range exp {
		if !identities(evs)[id] {
			t.Fatal("times read back with the zone must give the same identities")
		}
	}
	// event_name is ignored by install reports.
	q.Set("event_name", "af_purchase")
	_, installs, _ := f.pullRows(t, app, appsflyer.ReportInstalls, q, tokyo)
	if len(installs) != len(expected(f.w, app, appsflyer.ReportInstalls, fixtureStart, fixtureStart.Add(5*time.Minute), nil)) {
		t.Fatal("event_name must not filter installs_report")
	}
}

func TestReportSilentTruncation(t *testing.T) {
	f := newPullFixture(t, ServerOptions{RowCap: 5}, TrafficOptions{})
	app := f.w.Apps[0].ID
	q := window("2026-11-26", "2026-11-26")
	q.Set("maximum_rows", "1000000")
	_, evs, _ := f.pullRows(t, app, appsflyer.ReportInAppEvents, q, nil)
	all := f.w.Query(app, appsflyer.ReportInAppEvents, fixtureStart.Add(-time.Hour), fixtureStart.Add(time.Hour))
	if len(all) <= 5 || len(evs) != 5 {
		t.Fatalf("got %d rows of %d, want the cap of 5", len(evs), len(all))
	}
	for i := range evs {
		if evs[i].AppsFlyerID != all[i].User.AppsFlyerID || evs[i].EventName != all[i].Name {
			t.Fatalf("row %d is not the %d-th newest event", i, i)
		}
	}
	if st := f.srv.Stats(); st.Rows != 5 {
		t.Fatalf("Rows stat %d", st.Rows)
	}
}

// The point of the Pull API: events the push path dropped come back with a
// backfill, and push + pull together equal the world's truth exactly.
func TestPullBackfillRecoversDroppedPushes(t *testing.T) {
	f := newPullFixture(t, ServerOptions{Direct: true}, TrafficOptions{DropShare: 0.2, DuplicateShare: 0.1, LateShare: 0.1, MalformedShare: 0.05})
	combined := NewTruth(nil)
	combined.ObserveDeliveries(f.ds, false)
	pushOnly := combined.Unique()
	var pulled int
	for _, app := range f.w.Apps {
		for _, report := range appsflyer.Reports {
			_, _, raws := f.pullRows(t, app.ID, report, window("2026-11-26", "2026-11-26"), nil)
			for _, b := range raws {
				combined.Observe(b)
			}
			pulled += len(raws)
		}
	}
	world := f.w.Truth(nil)
	if pulled != len(f.w.Events()) || combined.Unique() != world.Unique() || pushOnly >= world.Unique() {
		t.Fatalf("pulled %d, combined unique %d, world %d, push only %d", pulled, combined.Unique(), world.Unique(), pushOnly)
	}
	for _, g := range metricdoc.Granularities {
		got, want := combined.Windows(g), world.Windows(g)
		if len(got) != len(want) {
			t.Fatalf("%s: %d windows, want %d", g, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s window %v %+v: %+v, want %+v", g, k.Start, k.Meta, got[k], v)
			}
		}
	}
}
