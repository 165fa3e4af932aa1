package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
)

func init() {
	register("topics", "create the Kafka topics (raw_events, raw_events_dlq, aggregated_metrics, ingest_cursors) and exit", runTopics)
}

// runTopics creates the topics idempotently; existing topics are kept.
func runTopics(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("topics", flag.ContinueOnError)
	var o publish.Options
	o.RegisterFlags(fs)
	timeout := fs.Duration("kafka.timeout", 30*time.Second, "give up creating topics after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return ingest.CreateTopics(ctx, o, log)
}
