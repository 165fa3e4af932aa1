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
	"strings"
	"syscall"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/chaos"
)

func main() {
	var o chaos.Options
	brokers := flag.String("kafka.brokers", os.Getenv("CAMPAIGNPULSE_KAFKA_BROKERS"), "Kafka brokers (comma-separated); empty runs an in-process kfake cluster")
	flag.StringVar(&o.Binary, "binary", "bin/campaignpulse", "the campaignpulse executable under test")
	flag.StringVar(&o.Dir, "dir", "", "work directory for FerretDB files and aggregator logs (default: a temp dir)")
	flag.IntVar(&o.Events, "events", 30000, "deliveries fed to raw_events")
	flag.IntVar(&o.Kills, "kills", 12, "minimum number of SIGKILLs")
	flag.IntVar(&o.StoreOutages, "store-outages", 3, "times MongoDB goes away during the run")
	flag.DurationVar(&o.OutageLength, "outage", 3*time.Second, "length of each store outage")
	flag.IntVar(&o.ReplyLosses, "reply-losses", 3, "times the aggregators' MongoDB replies are lost (writes applied, clients time out) before a kill")
	flag.DurationVar(&o.ReplyLossLength, "reply-loss", 2*time.Second, "length of each reply loss")
	flag.IntVar(&o.Instances, "instances", 2, "aggregators running at once in one consumer group")
	flag.Int64Var(&o.Seed, "seed", 1, "seed of traffic and kill timing")
	flag.Parse()
	if *brokers != "" {
		o.Brokers = strings.Split(*brokers, ",")
	}
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
