// Command campaignpulse is the one binary of the campaignpulse backend. Each
// subcommand is one part of the data path:
//
//	simulate   fake AppsFlyer: Pull API server and Push API traffic
//	topics     create the Kafka topics with their configs
//	ingest     AppsFlyer Pull poller + Push receiver -> raw_events
//	aggregate  raw_events -> event-time windows -> MongoDB + aggregated_metrics
//	run        all of the above in one process on embedded Kafka and MongoDB
//
// main only turns flags and environment into options, installs signal
// handling and maps the outcome to an exit code; the work lives in packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/campaignpulse/campaignpulse/aggregator/logging"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, log *slog.Logger) error
}

var commands = map[string]command{}

// register adds a subcommand; called from each cmd_<name>.go init.
func register(name, summary string, run func(context.Context, []string, *slog.Logger) error) {
	commands[name] = command{summary: summary, run: run}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: campaignpulse <command> [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'campaignpulse <command> --help' for its flags. Every flag also reads\nCAMPAIGNPULSE_<FLAG> from the environment (dots and dashes become underscores).\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "campaignpulse: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	log := logSwitch.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, os.Args[2:], log.With("cmd", os.Args[1]))
	switch {
	case err == nil, errors.Is(err, context.Canceled):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		log.Error("campaignpulse "+os.Args[1]+" failed", "err", err)
		os.Exit(1)
	}
}

// errUsage reports a flag error that the flag package already printed.
var errUsage = errors.New("usage")

// logSwitch is the process logger's handler: text at info until a
// command's --log.level and --log.format (parseFlags) set it.
var logSwitch = logging.NewSwitch(os.Stderr)
