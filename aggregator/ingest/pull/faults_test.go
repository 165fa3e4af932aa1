package pull

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

func TestTransientFaultsAreRetried(t *testing.T) {
	tests := []struct {
		name   string
		fault  simulate.Fault
		n      int
		server simulate.ServerOptions
	}{
		{"503", simulate.FaultServerError, 3, simulate.ServerOptions{}},
		{"500", simulate.FaultServerError, 2, simulate.ServerOptions{ServerErrorStatus: 500}},
		{"dropped connection", simulate.FaultDrop, 2, simulate.ServerOptions{}},
		{"body cut short", simulate.FaultTruncate, 2, simulate.ServerOptions{}},
		{"slow answer times out", simulate.FaultSlow, 2, simulate.ServerOptions{SlowDelay: 30 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour, server: tt.server})
			o := e.options()
			o.Reports = []string{appsflyer.ReportInstalls}
			o.RequestTimeout = 300 * time.Millisecond
			p := e.poller(t, o)
			e.sim.InjectFault(tt.fault, tt.n)
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
			if got := p.metric(t, "campaignpulse_ingest_pull_retries_total", nil); got < 1 {
				t.Fatalf("retries %v, want >= 1", got)
			}
			if st := e.sim.Stats(); st.Faults != tt.n {
				t.Fatalf("simulator answered %d faults, want %d", st.Faults, tt.n)
			}
		})
	}
}

func TestRetriesGiveUpThenResume(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls}
	p := e.poller(t, o)
	// More failures than one window's attempts: the stream waits RetryCap
	// and tries the same window again, keeping its cursor.
	e.sim.InjectFault(simulate.FaultServerError, int(o.RetryAttempts)+1)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if got := p.metric(t, "campaignpulse_ingest_pull_requests_total", map[string]string{"status_class": "5xx"}); got != float64(o.RetryAttempts)+1 {
		t.Fatalf("5xx answers %v", got)
	}
}

func TestQuotaWaitsUntilMidnightUTC(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 6 * time.Hour, server: simulate.ServerOptions{QuotaPerDay: 3}})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInAppEvents}
	p := e.poller(t, o)
	start := e.clock.Now()
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if got := p.metric(t, "campaignpulse_ingest_pull_quota_waits_total", nil); got != 1 {
		t.Fatalf("quota waits %v, want 1 (3 calls a day, 6 windows)", got)
	}
	midnight := appsflyer.QuotaReset(start)
	waits := e.clock.Waits()
	if len(waits) != 1 || waits[0] != midnight.Sub(start) {
		t.Fatalf("waits %v, want one wait of %v (until %s)", waits, midnight.Sub(start), midnight)
	}
	if got := e.sim.Stats().ByStatus[400]; got != 1 {
		t.Fatalf("quota answers %d, want 1: the poller must not hammer a spent quota", got)
	}
}

func TestRejectedTokenStopsEveryApp(t *testing.T) {
	const suspended = "eyJsuspended-account-token-5678"
	tests := []struct{ name, token, message string }{
		{"invalid token", "eyJwrong-token-value-1234", appsflyer.MsgInvalidToken},
		{"suspended account", suspended, appsflyer.MsgSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envConfig{span: time.Hour, server: simulate.ServerOptions{SuspendedTokens: []string{suspended}}})
			o := e.options()
			o.Token = tt.token
			p := e.poller(t, o)
			err := p.Run(context.Background())
			if err == nil {
				t.Fatal("Run succeeded with a rejected token")
			}
			var ae *appsflyer.APIError
			if !errors.As(err, &ae) || ae.Kind != appsflyer.KindInvalidToken || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err %v, want a 401 APIError saying %q", err, tt.message)
			}
			for _, a := range o.Apps {
				if !strings.Contains(err.Error(), a) {
					t.Errorf("error does not name app %s: %v", a, err)
				}
				if g := p.metric(t, "campaignpulse_ingest_pull_app_stopped", map[string]string{"app_id": a}); g != 1 {
					t.Errorf("app %s stopped gauge %v", a, g)
				}
			}
			if strings.Contains(err.Error(), tt.token) || strings.Contains(err.Error(), apiToken) {
				t.Fatalf("error leaks a token: %v", err)
			}
			if got := p.metric(t, "campaignpulse_ingest_pull_retries_total", nil); got != 0 {
				t.Fatalf("retried a 401 %v times", got)
			}
			if n := len(e.read(t, "raw_events")); n != 0 {
				t.Fatalf("%d records published", n)
			}
		})
	}
}

func TestUnknownAppStopsOnlyThatApp(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour})
	known := e.world.AppIDs()[0]
	o := e.options(known, "id000000404")
	p := e.poller(t, o)
	err := p.Run(context.Background())
	var ae *appsflyer.APIError
	if !errors.As(err, &ae) || ae.Kind != appsflyer.KindAppNotFound || !strings.Contains(err.Error(), "id000000404") {
		t.Fatalf("err %v, want app-not-found naming id000000404", err)
	}
	if strings.Contains(err.Error(), known) {
		t.Fatalf("error blames the known app: %v", err)
	}
	sameCounts(t, e.committed(t), e.expected([]string{known}, appsflyer.Reports))
	if g := p.metric(t, "campaignpulse_ingest_pull_app_stopped", map[string]string{"app_id": "id000000404"}); g != 1 {
		t.Fatalf("stopped gauge %v", g)
	}
	if g := p.metric(t, "campaignpulse_ingest_pull_app_stopped", map[string]string{"app_id": known}); g != 0 {
		t.Fatalf("known app stopped gauge %v", g)
	}
}

func TestLookbackIsPermanent(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: time.Hour})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls}
	o.Start = t0.Add(-100 * 24 * time.Hour)
	e.clock.Set(t0.Add(2 * time.Hour))
	p := e.poller(t, o)
	err := p.Run(context.Background())
	var ae *appsflyer.APIError
	if !errors.As(err, &ae) || ae.Kind != appsflyer.KindLookback {
		t.Fatalf("err %v, want the lookback answer", err)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_retries_total", nil); got != 0 {
		t.Fatalf("retried a permanent error %v times", got)
	}
}

func TestTruncatedWindowsAreSplit(t *testing.T) {
	const cap = 25
	e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour, server: simulate.ServerOptions{RowCap: cap}})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInAppEvents}
	p := e.poller(t, o)
	p.rowCap = cap
	want := e.expected(o.Apps, o.Reports)
	for k, n := range want {
		if n <= cap {
			t.Fatalf("window %v has only %d events; the test needs more than %d", k, n, cap)
		}
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), want)
	if got := p.metric(t, "campaignpulse_ingest_pull_window_splits_total", nil); got < 2 {
		t.Fatalf("splits %v", got)
	}
}

func TestRedirectToOtherHostWithoutToken(t *testing.T) {
	// The one-time URL points at a second host, as rawdata.appsflyer.com.
	e := newEnv(t, envConfig{apps: 1, span: time.Hour, downloadHost: true})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls}
	p := e.poller(t, o)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := e.sim.Stats()
	if st.Downloads != 1 || st.DownloadsWithAuth != 0 {
		t.Fatalf("downloads %d, with token %d", st.Downloads, st.DownloadsWithAuth)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
}
