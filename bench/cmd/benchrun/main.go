// Command benchrun is the harness behind `make bench`: it writes the
// simulator's events into raw_events on a real Apache Kafka broker, runs the
// Go aggregator (bin/campaignpulse aggregate), the PySpark Structured
// Streaming peer and the Kafka Streams peer one after the other on the same
// input, and prints throughput, CPU, memory and freshness for each, ending
// with the one summary line of the bench.
//
//	benchrun run   [flags]            the whole bench (what make bench runs)
//	benchrun store --dir D --addr A   the embedded MongoDB-protocol store (FerretDB on SQLite)
//	benchrun chart --results DIR      redraw DIR/chart.svg from DIR/results.json
//	benchrun table --results DIR      print DIR/results.json's medians as a Markdown table
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

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchrun run|store|chart|table [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "run":
		err = runBench(ctx, os.Args[2:])
	case "store":
		err = runStore(ctx, os.Args[2:])
	case "chart":
		err = runChart(os.Args[2:])
	case "table":
		err = runTable(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

// runStore serves the embedded store until SIGTERM, in its own process so
// that its CPU and memory are measured apart from the aggregator's.
func runStore(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("store", flag.ContinueOnError)
	dir := fs.String("dir", ".run/bench/store", "SQLite directory")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := embedded.StartMongo(ctx, *dir, *addr, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		return err
	}
	fmt.Println("store: ready", m.URI())
	<-ctx.Done()
	m.Close()
	return nil
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
