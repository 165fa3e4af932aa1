// Command benchrecovery measures what a restart costs (`make
// bench-recovery`): it starts an Apache Kafka broker with scripts/kafka.sh,
// feeds a million events, SIGKILLs the aggregator mid-stream, restarts it,
// and compares the bytes its restore read with what a replay of raw_events
// reads. Its last line is
//
//	recovery: events=<n> restore_s=<x> restore_read_mb=<n> raw_replay_mb=<n> mismatched_windows=<n>
//
// and it exits non-zero unless every window matches the truth and the
// restore read at most 5% of the replay's bytes.
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

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/chaos"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
)

func main() { os.Exit(run()) }

// run returns the exit code, so the broker it started is always stopped.
func run() int {
	var o chaos.RecoveryOptions
	o.RegisterFlags(flag.CommandLine)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	o.Log = log

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Minute)
	defer cancel()

	if len(o.Brokers) == 0 {
		b, err := realkafka.Start(ctx, realkafka.Options{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "recovery: start kafka: %v\n", err)
			return 1
		}
		defer func() {
			if err := b.Stop(context.Background()); err != nil {
				fmt.Fprintf(os.Stderr, "recovery: stop kafka: %v\n", err)
			}
			_ = os.RemoveAll(b.Dir())
		}()
		o.Brokers = b.Brokers()
	}
	res, err := chaos.Recovery(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "recovery: run failed: %v\n", err)
		return 1
	}
	a := res.Accounting
	fmt.Printf("accounting: processed=%d holds=%t counted=%d duplicates=%d logs=%s\n", a.Processed, a.Holds(), a.Counted, a.Duplicates, res.Dir)
	fmt.Println(res.Summary())
	if len(res.Mismatches) > 0 || !a.Holds() || res.RestoreReadBytes*20 > res.RawReplayBytes {
		return 1
	}
	return 0
}
