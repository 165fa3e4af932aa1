package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/campaignpulse/campaignpulse/aggregator/logging"
)

// envName is the environment variable that backs a flag:
// --kafka.brokers -> CAMPAIGNPULSE_KAFKA_BROKERS.
func envName(flagName string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return "CAMPAIGNPULSE_" + strings.ToUpper(r.Replace(flagName))
}

// parseFlags fills fs from the environment first and from args second, so a
// command-line flag beats its CAMPAIGNPULSE_* variable. A bad value in
// either place stops the program with a message naming the setting.
//
// Every command also takes --log.level and --log.format; they are applied
// to the process logger here.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var logOpts logging.Options
	logOpts.RegisterFlags(fs)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q (for --%s): %w", envName(f.Name), v, f.Name, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: campaignpulse %s [flags]\n\n", fs.Name())
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(fs.Output(), "  --%s (env %s, default %q)\n      %s\n", f.Name, envName(f.Name), f.DefValue, f.Usage)
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	logSwitch.Apply(logOpts)
	return nil
}
