package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	_ "time/tzdata" // --aggregate.timezone works in minimal images

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/campaignpulse/campaignpulse/aggregator/aggregate"
)

func init() {
	register("aggregate", "raw_events -> event-time windows -> MongoDB + aggregated_metrics", runAggregate)
}

// runAggregate consumes raw_events until SIGTERM, serving /metrics,
// /healthz and /readyz. The MongoDB URI and password come from flags, env
// or files and are never logged.
func runAggregate(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("aggregate", flag.ContinueOnError)
	var o aggregate.ServiceOptions
	o.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	setMemoryLimit(log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	err := aggregate.Run(ctx, o, aggregate.Deps{Log: log, Registerer: reg, Gatherer: reg})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
