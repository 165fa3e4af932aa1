package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

func init() {
	register("simulate", "fake AppsFlyer: serve the Pull API and push traffic to a URL", runSimulate)
}

// runSimulate serves the simulated Pull API and pushes paced traffic. Tokens
// come from flags, CAMPAIGNPULSE_* env or files and are never logged.
func runSimulate(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var o simulate.Options
	o.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return simulate.Run(ctx, o, log)
}
