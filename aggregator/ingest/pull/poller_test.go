package pull

import (
	"context"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

func TestPullsEveryWindowOnce(t *testing.T) {
	e := newEnv(t, envConfig{})
	p := e.poller(t, e.options())
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(e.world.AppIDs(), appsflyer.Reports))
	for _, a := range e.world.AppIDs() {
		for _, r := range appsflyer.Reports {
			if c, ok := p.Cursor(a, r); !ok || !c.Equal(t0.Add(e.span)) {
				t.Errorf("cursor %s/%s = %v", a, r, c)
			}
			if g := p.metric(t, "campaignpulse_ingest_pull_cursor_timestamp_seconds", map[string]string{"app_id": a, "report": r}); g != float64(t0.Add(e.span).Unix()) {
				t.Errorf("cursor gauge %s/%s = %v", a, r, g)
			}
		}
	}
	wantWindows := float64(len(e.world.AppIDs()) * len(appsflyer.Reports) * int(e.span/time.Hour))
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != wantWindows {
		t.Errorf("windows committed %v, want %v", got, wantWindows)
	}
	st := e.sim.Stats()
	if st.Downloads == 0 || st.DownloadsWithAuth != 0 {
		t.Errorf("downloads %d, with the bearer token forwarded %d", st.Downloads, st.DownloadsWithAuth)
	}
}
