package simulate

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/clock"
)

const testToken = "eyJhbGciOiJIUzI1NiJ9.test-token"

// pullFixture is a world with 10 minutes of traffic from 2026-11-26 10:00
// UTC, its Pull API on httptest and a clock at 12:00 the same day.
type pullFixture struct {
	w     *World
	srv   *Server
	ts    *httptest.Server
	clock *clock.Virtual
	ds    []Delivery
}

var fixtureStart = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func newPullFixture(t *testing.T, o ServerOptions, traffic TrafficOptions) *pullFixture {
	t.Helper()
	f := &pullFixture{w: mustWorld(t, 77), clock: clock.NewVirtual(fixtureStart.Add(2 * time.Hour))}
	if traffic.Start.IsZero() {
		traffic.Start = fixtureStart
	}
	if traffic.Rate == 0 {
		traffic.Rate = 20
	}
	f.ds = mustTraffic(t, f.w, traffic).Until(traffic.Start.Add(10 * time.Minute))
	if o.Tokens == nil {
		o.Tokens = []string{testToken}
	}
	o.Now = f.clock.Now
	var err error
	if f.srv, err = NewServer(f.w, o); err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

func (f *pullFixture) url(app, report string, q url.Values) string {
	return f.ts.URL + "/api/raw-data/export/app/" + app + "/" + report + "/v5?" + q.Encode()
}

// get sends a report request; follow decides whether the 302 is followed.
func (f *pullFixture) get(t *testing.T, rawURL, token string, follow bool) (*http.Response, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func window(from, to string) url.Values { return url.Values{"from": {from}, "to": {to}} }

// Every error answer, as the client package classifies it.
func TestServerErrorAnswers(t *testing.T) {
	f := newPullFixture(t, ServerOptions{SuspendedTokens: []string{"suspended"}}, TrafficOptions{})
	app := f.w.Apps[0].ID
	day := window("2026-11-26", "2026-11-26")
	tests := []struct {
		name   string
		url    string
		token  string
		status int
		kind   appsflyer.ErrorKind
		msg    string
	}{
		{"no token", f.url(app, appsflyer.ReportInstalls, day), "", 401, appsflyer.KindInvalidToken, appsflyer.MsgInvalidToken},
		{"wrong token", f.url(app, appsflyer.ReportInstalls, day), "nope", 401, appsflyer.KindInvalidToken, appsflyer.MsgInvalidToken},
		{"suspended", f.url(app, appsflyer.ReportInstalls, day), "suspended", 401, appsflyer.KindInvalidToken, appsflyer.MsgSuspended},
		{"unknown app", f.url("id1", appsflyer.ReportInstalls, day), testToken, 404, appsflyer.KindAppNotFound, "HTML error page"},
		{"ios id without id prefix", f.url(strings.TrimPrefix(app, "id"), appsflyer.ReportInstalls, day), testToken, 404, appsflyer.KindAppNotFound, "HTML error page"},
		{"unknown report", f.url(app, "uninstall_events_report", day), testToken, 404, appsflyer.KindAppNotFound, "HTML error page"},
		{"unknown path", f.ts.URL + "/api/agg-data/export/app/" + app + "/partners_report/v5", testToken, 404, appsflyer.KindAppNotFound, "HTML error page"},
		{"invalid limit", f.url(app, appsflyer.ReportInstalls, url.Values{"from": {"2026-11-26"}, "to": {"2026-11-26"}, "maximum_rows": {"500"}}), testToken, 400, appsflyer.KindBadRequest, appsflyer.MsgInvalidLimit},
		{"unknown additional field", f.url(app, appsflyer.ReportInstalls, url.Values{"from": {"2026-11-26"}, "to": {"2026-11-26"}, "additional_fields": {"match_type,is_primary_attribution"}}), testToken, 400, appsflyer.KindBadRequest, appsflyer.MsgUnknownField},
		{"missing from", f.url(app, appsflyer.ReportInstalls, url.Values{"to": {"2026-11-26"}}), testToken, 400, appsflyer.KindBadRequest, "Missing required parameter: from"},
		{"bad from", f.url(app, appsflyer.ReportInstalls, window("2026-11-26T10:00", "2026-11-26")), testToken, 400, appsflyer.KindBadRequest, "Invalid date format for from"},
		{"impossible date", f.url(app, appsflyer.ReportInstalls, window("2026-11-26", "2026-02-30")), testToken, 400, appsflyer.KindBadRequest, "Invalid date format for to"},
		{"from after to", f.url(app, appsflyer.ReportInstalls, window("2026-11-26 10:00", "2026-11-26 09:00")), testToken, 400, appsflyer.KindBadRequest, "from date can't be after to date"},
		{"bad timezone", f.url(app, appsflyer.ReportInstalls, url.Values{"from": {"2026-11-26"}, "to": {"2026-11-26"}, "timezone": {"Mars/Olympus"}}), testToken, 400, appsflyer.KindBadRequest, "Invalid timezone"},
		{"lookback", f.url(app, appsflyer.ReportInstalls, window("2026-08-27", "2026-08-28")), testToken, 400, appsflyer.KindLookback, appsflyer.MsgLookback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.get(t, tt.url, tt.token, false)
			var e *appsflyer.APIError
			if !errors.As(appsflyer.CheckResponse(resp.StatusCode, body), &e) {
				t.Fatalf("status %d: not an error answer: %s", resp.StatusCode, body)
			}
			if e.Status != tt.status || e.Kind != tt.kind || !strings.HasPrefix(e.Message, tt.msg) {
				t.Fatalf("got %d %s %q, want %d %s %q", e.Status, e.Kind, e.Message, tt.status, tt.kind, tt.msg)
			}
			if tt.status == 404 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("404 must be an HTML page, got %s", resp.Header.Get("Content-Type"))
			}
		})
	}
	// None of those calls counted against the quota; day 89 is still allowed.
	if n := f.srv.Calls(app, appsflyer.ReportInstalls); n != 0 {
		t.Fatalf("%d failed calls counted against the quota", n)
	}
	if resp, body := f.get(t, f.url(app, appsflyer.ReportInstalls, window("2026-08-28", "2026-08-28")), testToken, true); resp.StatusCode != 200 {
		t.Fatalf("90th day back: %d %s", resp.StatusCode, body)
	}
}

func TestServerQuotaResetsAtMidnightUTC(t *testing.T) {
	f := newPullFixture(t, ServerOptions{QuotaPerDay: 3}, TrafficOptions{})
	app, other := f.w.Apps[0].ID, f.w.Apps[1].ID
	// 23:30 in New York is already the next UTC day: the quota follows UTC.
	f.clock.Set(time.Date(2026, 11, 26, 23, 59, 59, 0, time.UTC))
	u := f.url(app, appsflyer.ReportInAppEvents, window("2026-11-26", "2026-11-26"))
	for i := range 3 {
		if resp, body := f.get(t, u, testToken, true); resp.StatusCode != 200 {
			t.Fatalf("call %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := f.get(t, u, testToken, true)
	err := appsflyer.CheckResponse(resp.StatusCode, body)
	if !appsflyer.IsQuota(err) || !strings.Contains(string(body), appsflyer.MsgQuota) {
		t.Fatalf("4th call: %v (%s)", err, body)
	}
	if got := f.srv.Calls(app, appsflyer.ReportInAppEvents); got != 3 {
		t.Fatalf("Calls = %d, want 3", got)
	}
	// Other reports and other apps have their own quota.
	for _, u := range []string{f.url(app, appsflyer.ReportInstalls, window("2026-11-26", "2026-11-26")), f.url(other, appsflyer.ReportInAppEvents, window("2026-11-26", "2026-11-26"))} {
		if resp, _ := f.get(t, u, testToken, true); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
	}
	f.clock.Set(appsflyer.QuotaReset(f.clock.Now()).Add(-time.Nanosecond))
	if resp, _ := f.get(t, u, testToken, true); resp.StatusCode != 400 {
		t.Fatal("quota must hold until 00:00 UTC")
	}
	f.clock.Set(appsflyer.QuotaReset(f.clock.Now()))
	if resp, body := f.get(t, u, testToken, true); resp.StatusCode != 200 {
		t.Fatalf("after 00:00 UTC: %d %s", resp.StatusCode, body)
	}
}

func TestServerDefaultQuotas(t *testing.T) {
	f := newPullFixture(t, ServerOptions{}, TrafficOptions{})
	if f.srv.quota(appsflyer.ReportInstalls) != 24 || f.srv.quota(appsflyer.ReportOrganicInstalls) != 24 ||
		f.srv.quota(appsflyer.ReportInAppEvents) != 12 || f.srv.quota(appsflyer.ReportOrganicInAppEvents) != 12 {
		t.Fatal("default quotas must be AppsFlyer's 24 (installs) and 12 (in-app) per app and day")
	}
	unlimited := newPullFixture(t, ServerOptions{QuotaPerDay: -1}, TrafficOptions{})
	u := unlimited.url(unlimited.w.Apps[0].ID, appsflyer.ReportInAppEvents, window("2026-11-26", "2026-11-26"))
	for range 15 {
		if resp, _ := unlimited.get(t, u, testToken, true); resp.StatusCode != 200 {
			t.Fatal("QuotaPerDay < 0 must be unlimited")
		}
	}
}

var tokenRE = regexp.MustCompile(`^/export/token/([a-z0-9.]+)__([a-z-]+)_(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})_[A-Z]{15}$`)

func TestServerRedirectIsOneTime(t *testing.T) {
	f := newPullFixture(t, ServerOptions{}, TrafficOptions{})
	app := f.w.Apps[1].ID
	resp, _ := f.get(t, f.url(app, appsflyer.ReportOrganicInAppEvents, window("2026-11-25 10:00", "2026-11-26")), testToken, false)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != strings.TrimPrefix(f.ts.URL, "http://") {
		t.Fatalf("Location %q", resp.Header.Get("Location"))
	}
	m := tokenRE.FindStringSubmatch(loc.Path)
	if m == nil || m[1] != app || m[2] != "organic-in-app-events" || m[3] != "2026-11-25" || m[4] != "2026-11-26" {
		t.Fatalf("download path %q does not look like <app>__<slug>_<from>_<to>_<15 uppercase>", loc.Path)
	}
	first, body := f.get(t, loc.String(), "", false)
	if first.StatusCode != 200 || !strings.HasPrefix(first.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("first download: %d %s", first.StatusCode, first.Header.Get("Content-Type"))
	}
	if _, err := appsflyer.NewRowReader(strings.NewReader(string(body))); err != nil {
		t.Fatal(err)
	}
	second, body := f.get(t, loc.String(), "", false)
	if second.StatusCode != 404 || !strings.Contains(string(body), "<!DOCTYPE html>") {
		t.Fatalf("second download: %d, want the 404 page", second.StatusCode)
	}
	// A client that forwards the bearer to the download URL is counted.
	f.get(t, f.url(app, appsflyer.ReportInstalls, window("2026-11-26", "2026-11-26")), testToken, true)
	if st := f.srv.Stats(); st.Downloads != 2 || st.DownloadsWithAuth != 1 || st.Reports != 2 || st.ByStatus[302] != 2 || st.ByStatus[404] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestServerDownloadExpires(t *testing.T) {
	f := newPullFixture(t, ServerOptions{DownloadTTL: time.Minute, DownloadBaseURL: "http://rawdata.example"}, TrafficOptions{})
	resp, _ := f.get(t, f.url(f.w.Apps[0].ID, appsflyer.ReportInstalls, window("2026-11-26", "2026-11-26")), testToken, false)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Host != "rawdata.example" {
		t.Fatalf("Location host %q, want the configured download host", loc.Host)
	}
	f.clock.Advance(2 * time.Minute)
	if resp, _ := f.get(t, f.ts.URL+loc.Path, "", false); resp.StatusCode != 404 {
		t.Fatalf("expired download: %d", resp.StatusCode)
	}
}

func TestServerOptionsValidate(t *testing.T) {
	w := mustWorld(t, 1)
	for name, o := range map[string]ServerOptions{
		FlagPullToken:       {},
		FlagRowCap:          {Tokens: []string{"t"}, RowCap: -1},
		FlagErrorStatus:     {Tokens: []string{"t"}, ServerErrorStatus: 404},
		FlagDownloadBaseURL: {Tokens: []string{"t"}, DownloadBaseURL: "ftp://x"},
	} {
		if _, err := NewServer(w, o); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the option", name, err)
		}
	}
}
