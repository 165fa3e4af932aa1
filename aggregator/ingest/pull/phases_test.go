package pull

import (
	"context"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// TestDownloadLongerThanTransactionTimeout: every report takes twice the
// Kafka transaction timeout to download. The transaction opens only after
// the download, so each window still lands once, without a retry (kfake
// aborts transactions older than their timeout, as Kafka does).
func TestDownloadLongerThanTransactionTimeout(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour,
		server: simulate.ServerOptions{ServeDuration: 2 * time.Second}})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls}
	o.TransactionTimeout = time.Second
	o.RequestTimeout = time.Minute
	p := e.poller(t, o)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != 2 {
		t.Fatalf("windows committed %v, want 2", got)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_retries_total", nil); got != 0 {
		t.Fatalf("retries %v, want 0", got)
	}
	if st := e.sim.Stats(); st.Reports != 2 {
		t.Fatalf("simulator served %d reports, want 2 (each window downloaded once)", st.Reports)
	}
}

// TestDownloadsDoNotWaitForTransactions: 3 apps x 4 reports start their
// slow downloads together. Serialized download-and-produce would make the
// last one wait for eleven others with its request timeout running; here
// they download side by side and only the short transactions take turns,
// so no request times out and none is repeated.
func TestDownloadsDoNotWaitForTransactions(t *testing.T) {
	var inFlight, maxInFlight atomic.Int64
	e := newEnv(t, envConfig{apps: 3, rate: 1, span: time.Hour,
		server: simulate.ServerOptions{ServeDuration: time.Second},
		wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
				}
				h.ServeHTTP(w, r)
			})
		}})
	o := e.options()
	o.Reports = appsflyer.Reports
	// Less than the 12 s twelve serialized one-second downloads take.
	o.RequestTimeout = 8 * time.Second
	streams := len(o.Apps) * len(o.Reports)
	if streams != 12 {
		t.Fatalf("%d streams, want 12", streams)
	}
	p := e.poller(t, o)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if got := p.metric(t, "campaignpulse_ingest_pull_retries_total", nil); got != 0 {
		t.Fatalf("retries %v, want 0", got)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != float64(streams) {
		t.Fatalf("windows committed %v, want %d", got, streams)
	}
	if st := e.sim.Stats(); st.Reports != streams {
		t.Fatalf("simulator served %d reports, want %d (none requested twice)", st.Reports, streams)
	}
	if m := maxInFlight.Load(); m < 2 {
		t.Fatalf("at most %d request in flight at once, want concurrent downloads", m)
	}
	t.Logf("%d streams, up to %d requests in flight at once", streams, maxInFlight.Load())
}

// TestSpoolToDisk: with a memory bound smaller than a report, the report
// is spooled to a file, produced from it, and the file is removed.
func TestSpoolToDisk(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, rate: 2, span: 2 * time.Hour})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInAppEvents}
	o.SpoolMemory = 1 << 10
	o.SpoolDir = t.TempDir()
	p := e.poller(t, o)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	left, err := os.ReadDir(o.SpoolDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("spool files left behind: %v", left)
	}
}
