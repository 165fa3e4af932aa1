package pull

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// TestWindowsWaitForDelay starts at t0 with nothing due: each window is
// pulled only once its end is Delay in the past.
func TestWindowsWaitForDelay(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 3 * time.Hour})
	e.clock.Set(t0)
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls}
	p := e.poller(t, o)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{70 * time.Minute, time.Hour, time.Hour}
	if got := e.clock.Waits(); !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v (each window end + 10m delay)", got, want)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
}

func TestWindowEnd(t *testing.T) {
	p := &Poller{opts: Options{Window: time.Hour, CatchUpWindow: 6 * time.Hour, Delay: 10 * time.Minute}}
	at := func(h, m int) time.Time { return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	tests := []struct {
		name    string
		from    time.Time
		now     time.Time
		until   time.Time
		wantEnd time.Time
	}{
		{"steady state: one window", at(0, 0), at(1, 15), time.Time{}, at(1, 0)},
		{"two windows behind: still one", at(0, 0), at(2, 10), time.Time{}, at(1, 0)},
		{"behind: whole windows of the lag", at(0, 0), at(4, 40), time.Time{}, at(4, 0)},
		{"far behind: capped at catch-up", at(0, 0), at(30, 0), time.Time{}, at(6, 0)},
		{"never past until", at(0, 0), at(30, 0), at(2, 30), at(2, 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.opts.Until = tt.until
			if got := p.windowEnd(tt.from, tt.now); !got.Equal(tt.wantEnd) {
				t.Fatalf("windowEnd = %s, want %s", got.Format("15:04"), tt.wantEnd.Format("15:04"))
			}
		})
	}
}
