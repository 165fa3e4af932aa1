package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/status"
)

func init() {
	register("status", "topics, consumer lag, pull cursors, checkpoints and store usage, as tables or --json", runStatus)
}

// runStatus prints the pipeline's state as read from Kafka and MongoDB. It
// exits non-zero when a section could not be read (the rest is printed).
func runStatus(ctx context.Context, args []string, _ *slog.Logger) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var (
		o      status.Options
		co     metricstore.ClientOptions
		asJSON bool
	)
	o.RegisterFlags(fs)
	co.RegisterFlags(fs)
	fs.BoolVar(&asJSON, "json", false, "print one JSON document instead of tables")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	mc, err := co.Connect("campaignpulse-status")
	if err != nil {
		return err
	}
	defer func() { _ = mc.Disconnect(context.WithoutCancel(ctx)) }()
	cl, err := kgo.NewClient(o.KafkaOpts()...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()

	r := status.Collect(ctx, kadm.NewClient(cl), mc.Database(o.Database), o)
	if asJSON {
		err = r.WriteJSON(os.Stdout)
	} else {
		err = r.WriteText(os.Stdout)
	}
	if err != nil {
		return err
	}
	if len(r.Problems) > 0 {
		return fmt.Errorf("%d section(s) could not be read", len(r.Problems))
	}
	return nil
}
