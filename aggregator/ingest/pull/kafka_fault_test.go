package pull

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// TestKafkaRejectsWindowIsRetried fails the first produce request of the
// first window: the transaction aborts (none of its rows become
// visible, the cursor stays), the window is produced again from its spool,
// without a second download, and committed once.
func TestKafkaRejectsWindowIsRetried(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInAppEvents}
	p := e.poller(t, o)
	injected, err := e.kafka.FailProduce(kerr.MessageTooLarge.Code, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if injected.Load() < 1 {
		t.Fatal("no produce was intercepted")
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_retries_total", nil); got != 0 {
		t.Fatalf("request retries %v, want 0 (the download succeeded)", got)
	}
	if st := e.sim.Stats(); st.Reports != 2 {
		t.Fatalf("simulator served %d reports, want 2 (a failed transaction is not a reason to download again)", st.Reports)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != 2 {
		t.Fatalf("windows committed %v, want 2", got)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
}
