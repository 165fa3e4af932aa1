package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/pull"
)

func init() {
	register("ingest", "AppsFlyer push receiver + pull poller -> Kafka raw_events", runIngest)
}

// runIngest runs the push receiver and the pull poller (or, with
// --backfill.from/--backfill.to, one backfill) until SIGTERM. Tokens come
// from files or CAMPAIGNPULSE_* env and are never logged.
func runIngest(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	var (
		o        ingest.Options
		from, to time.Time
	)
	o.RegisterFlags(fs)
	pull.RegisterBackfillFlags(fs, &from, &to)
	// The process's own listener, like aggregate's: library callers (make run, tests) leave
	// Options.OpsAddr empty and serve metrics their own way.
	fs.StringVar(&o.OpsAddr, "http.addr", ":9464", "listen address of /healthz, /readyz and /metrics; keep it off published ports (empty: none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	deps := ingest.Deps{Log: log, Registerer: reg, Gatherer: reg}
	if !from.IsZero() || !to.IsZero() {
		return ingest.Backfill(ctx, o, deps, from, to)
	}
	err := ingest.Run(ctx, o, deps)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
