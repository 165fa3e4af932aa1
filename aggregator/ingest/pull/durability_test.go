package pull

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestCursorSurvivesRestart stops a poller in the middle of its run (on a
// report request, so a window is in flight) and starts a new one on the
// same cluster: together they publish every window exactly once.
func TestCursorSurvivesRestart(t *testing.T) {
	var (
		requests atomic.Int64
		stop     atomic.Pointer[context.CancelFunc]
	)
	const stopAt = 7
	e := newEnv(t, envConfig{span: 4 * time.Hour, wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/") && requests.Add(1) == stopAt {
				(*stop.Load())()
			}
			h.ServeHTTP(w, r)
		})
	}})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls, appsflyer.ReportInAppEvents}
	totalWindows := float64(len(o.Apps) * len(o.Reports) * int(e.span/time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	stop.Store(&cancel)
	first := e.poller(t, o)
	if err := first.Run(ctx); err != nil {
		t.Fatalf("first run: %v", err)
	}
	done := first.metric(t, "campaignpulse_ingest_pull_windows_total", nil)
	if done == 0 || done >= totalWindows {
		t.Fatalf("first poller committed %v of %v windows; the test must stop it midway", done, totalWindows)
	}
	first.Close()

	second := e.poller(t, o)
	if err := second.Run(context.Background()); err != nil {
		t.Fatalf("second run: %v", err)
	}
	again := second.metric(t, "campaignpulse_ingest_pull_windows_total", nil)
	if done+again != totalWindows {
		t.Fatalf("windows committed %v + %v, want %v in total (none twice, none skipped)", done, again, totalWindows)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
}

// TestCrashedPollerIsFenced leaves a transaction open as a poller killed
// mid-window would (rows and a cursor claiming the rest of the range, not
// committed). The next poller with the same transactional id fences it:
// neither the rows nor the cursor become visible, and it pulls the range.
func TestCrashedPollerIsFenced(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 3 * time.Hour})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls}
	app := o.Apps[0]

	half := o
	half.Until = t0.Add(time.Hour)
	if err := e.poller(t, half).Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	zombie, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...),
		kgo.TransactionalID(o.WithDefaults().TransactionalID), kgo.TransactionTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer zombie.Close()
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	junk := &kgo.Record{Topic: metricdoc.TopicRawEvents, Key: []byte(app + "|zombie"),
		Value: []byte(`{"app_id":"` + app + `","appsflyer_id":"zombie","event_name":"install","event_time":"2026-11-02 01:30:00","platform":"ios"}`)}
	res := zombie.ProduceSync(context.Background(), junk,
		cursorRecord(e.kopts.CursorTopic, app, appsflyer.ReportInstalls, t0.Add(3*time.Hour)))
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Crash: no EndTransaction.

	p := e.poller(t, o)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != 2 {
		t.Fatalf("second poller committed %v windows, want 2 (the zombie's cursor must not count)", got)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if err := zombie.EndTransaction(context.Background(), kgo.TryCommit); err == nil {
		t.Fatal("the fenced zombie could still commit")
	}
}

func TestBackfillLeavesCursorAlone(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInAppEvents}
	p := e.poller(t, o)
	if err := p.Backfill(context.Background(), t0, t0.Add(e.span)); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Cursor(o.Apps[0], o.Reports[0]); ok {
		t.Fatal("backfill moved the cursor")
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if n := len(e.read(t, e.kopts.CursorTopic)); n != 0 {
		t.Fatalf("backfill wrote %d cursor records", n)
	}
}

func TestValidateBackfill(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"ok", now.AddDate(0, 0, -30), now.AddDate(0, 0, -29), ""},
		{"oldest day ok", time.Date(2026, 8, 28, 0, 0, 0, 0, time.UTC), now.Add(-time.Hour), ""},
		{"beyond 90 days", time.Date(2026, 8, 27, 23, 0, 0, 0, time.UTC), now.Add(-time.Hour), "lookback"},
		{"reversed", now.Add(-time.Hour), now.Add(-2 * time.Hour), "must be before"},
		{"future", now.Add(-time.Hour), now.Add(time.Hour), "future"},
		{"missing", time.Time{}, now, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBackfill(tt.from, tt.to, now)
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}
