package pull

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestBadRowsGoToDLQ serves a report with a ragged row, a row that is not a
// valid event and a row that is not UTF-8 (the simulator only writes good
// rows): all are
// dead-lettered with their reason, the good rows and the cursor commit.
func TestBadRowsGoToDLQ(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: time.Hour})
	row := func(id, platform string) map[string]string {
		return map[string]string{"app_id": "id42", "appsflyer_id": id, "event_name": "install",
			"event_time": "2026-11-02 00:10:00", "install_time": "2026-11-02 00:10:00", "platform": platform}
	}
	report := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "text/csv" || r.Header.Get("Authorization") != "Bearer "+apiToken {
			http.Error(w, "want Accept: text/csv and the bearer token", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		rw := appsflyer.NewRowWriter(w, nil)
		_ = rw.Write(row("1", "ios"))
		_ = rw.Flush()
		_, _ = w.Write([]byte("only,three,cells\n"))
		_ = rw.Write(row("2", "playstation"))
		_ = rw.Write(row("3", "android"))
		bad := row("4", "ios")
		bad["campaign"] = "BF\xffUS" // not UTF-8: dead-lettered, not stored with U+FFFD
		_ = rw.Write(bad)
		_ = rw.Flush()
	}))
	defer report.Close()
	o := e.options("id42")
	o.BaseURL = report.URL
	o.Reports = []string{appsflyer.ReportInstalls}
	o.TransactionRecords = 2 // five rows in three transactions: dead letters and events share them
	p := e.poller(t, o)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.read(t, metricdoc.TopicRawEvents)); n != 2 {
		t.Fatalf("%d raw events, want 2", n)
	}
	dlq := e.read(t, metricdoc.TopicDLQ)
	if len(dlq) != 3 {
		t.Fatalf("%d DLQ records, want 3", len(dlq))
	}
	reasons := map[string]bool{}
	for _, r := range dlq {
		reasons[publish.Header(r, metricdoc.HeaderDLQReason)] = true
		if o := publish.Header(r, metricdoc.HeaderDLQOrigin); o != "pull/id42/installs_report" {
			t.Errorf("origin %q", o)
		}
	}
	if !reasons[publish.ReasonRaggedRow] || !reasons[string(event.ReasonBadPlatform)] || !reasons[string(event.ReasonBadEncoding)] {
		t.Fatalf("reasons %v", reasons)
	}
	if got := p.metric(t, "campaignpulse_ingest_dlq_events_total", map[string]string{"source": "pull"}); got != 3 {
		t.Fatalf("dlq counter %v", got)
	}
	if c, _ := p.Cursor("id42", appsflyer.ReportInstalls); !c.Equal(t0.Add(time.Hour)) {
		t.Fatalf("cursor %v", c)
	}
}

func TestOptionsValidateNamesSetting(t *testing.T) {
	ok := Options{Token: "t", Apps: []string{"id1"}}
	tests := []struct {
		name string
		mut  func(*Options)
		want string
	}{
		{"no token", func(o *Options) { o.Token = "" }, FlagToken},
		{"no apps", func(o *Options) { o.Apps = nil }, "pull.apps"},
		{"bad app", func(o *Options) { o.Apps = []string{"a/b"} }, "pull.apps"},
		{"bad report", func(o *Options) { o.Reports = []string{"uninstalls"} }, "pull.reports"},
		{"bad max rows", func(o *Options) { o.MaxRows = 5000 }, "pull.max-rows"},
		{"url with credentials", func(o *Options) { o.BaseURL = "https://u:p@hq1.appsflyer.com" }, FlagBaseURL},
		{"catch-up not multiple", func(o *Options) { o.CatchUpWindow = 90 * time.Minute }, "pull.catch-up-window"},
		{"fractional window", func(o *Options) { o.Window = 1500 * time.Millisecond }, "pull.window"},
		{"txn timeout too short", func(o *Options) { o.TransactionTimeout = 500 * time.Millisecond }, "pull.transaction-timeout"},
		{"negative spool bound", func(o *Options) { o.SpoolMemory = -1 }, "pull.spool-memory-bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.mut(&o)
			err := o.WithDefaults().Validate()
			if err == nil || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
				t.Fatalf("err %v, want it to start with %s", err, tt.want)
			}
		})
	}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
}
