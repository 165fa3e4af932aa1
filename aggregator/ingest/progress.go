package ingest

import (
	"context"
	"log/slog"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// logProgress logs events/s per source every interval, so `make run`
// shows the pipeline moving without a Prometheus.
func logProgress(ctx context.Context, pm *publish.Metrics, every time.Duration, log *slog.Logger) {
	read := func(source string) float64 {
		var m dto.Metric
		_ = pm.Published.WithLabelValues(source).Write(&m)
		return m.GetCounter().GetValue()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastPush, lastPull, last := read(metricdoc.SourcePush), read(metricdoc.SourcePull), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p, q := read(metricdoc.SourcePush), read(metricdoc.SourcePull)
			secs := now.Sub(last).Seconds()
			log.Info("ingest progress",
				"push_events_per_s", round1((p-lastPush)/secs), "pull_events_per_s", round1((q-lastPull)/secs),
				"push_events_total", int64(p), "pull_events_total", int64(q))
			lastPush, lastPull, last = p, q, now
		}
	}
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
