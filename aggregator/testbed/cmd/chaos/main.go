// Command chaos runs the aggregator exactly-once fault suite (`make chaos`):
// seeded traffic into raw_events, aggregators killed with SIGKILL at random
// points, MongoDB taken away and back, then every stored window compared
// with the simulator's ground truth. Its last line is the verdict:
//
//	chaos: kills=<n> produced=<n> counted=<n> duplicates=<n> too_late=<n> dead_lettered=<n> mismatched_windows=<n>
//
// and it exits non-zero unless every window matches and the accounting
// identity holds.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/chaos"
)

// brokersEnv is the default of --kafka.brokers.
const brokersEnv = "CAMPAIGNPULSE_KAFKA_BROKERS"

func main() {
	var o chaos.Options
	o.RegisterFlags(flag.CommandLine)
	// The one variable the tool reads: the brokers of `make chaos` against
	// a real cluster. A --kafka.brokers flag wins over it.
	if v := os.Getenv(brokersEnv); v != "" {
		if err := flag.Set(metricdoc.FlagBrokers, v); err != nil {
			fmt.Fprintf(os.Stderr, "chaos: %s: %v\n", brokersEnv, err)
			os.Exit(2)
		}
	}
	flag.Parse()
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()

	res, err := chaos.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: run failed: %v\n", err)
		os.Exit(1)
	}
	for i, m := range res.Mismatches {
		if i == 10 {
			fmt.Printf("... and %d more mismatched windows\n", len(res.Mismatches)-10)
			break
		}
		fmt.Printf("mismatch %s %s %+v: want %+v got %+v\n", m.Granularity, m.Key.Start.Format(time.RFC3339), m.Key.Meta, m.Want, m.Got)
	}
	a := res.Accounting
	fmt.Printf("accounting: processed=%d skipped=%d holds=%t store_outages=%d reply_losses=%d final_copies=%d (differing %d) logs=%s\n",
		a.Processed, a.Skipped, a.Holds(), res.Outages, res.ReplyLosses, res.FinalCopies, res.CopiesDiffer, res.Dir)
	fmt.Println(res.Summary())
	if !res.OK() {
		os.Exit(1)
	}
}
