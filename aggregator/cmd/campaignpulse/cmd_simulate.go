package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/settings"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

func init() {
	register("simulate", "fake AppsFlyer: serve the Pull API and push traffic to a URL", runSimulate)
}

// runSimulate serves the simulated Pull API and pushes paced traffic. Tokens
// come from flags, CAMPAIGNPULSE_* env or files and are never logged.
func runSimulate(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var (
		o                    simulate.Options
		pullTokens, quotaStr string
		pushTimeout          time.Duration
	)
	fs.Int64Var(&o.Seed, "sim.seed", 1, "seed of the synthetic world and its traffic (same seed, same events)")
	fs.IntVar(&o.World.Apps, "sim.apps", 4, "number of synthetic apps (alternating iOS and Android)")
	fs.IntVar(&o.World.Campaigns, "sim.campaigns", 8, "campaigns per attributed media source and app")
	fs.Float64Var(&o.Traffic.Rate, "sim.rate", 50, "fresh events per second (Poisson); duplicates come on top")
	fs.Float64Var(&o.Traffic.DuplicateShare, "sim.duplicate-share", 0, "share of events pushed twice (push retry), 0..1")
	fs.Float64Var(&o.Traffic.LateShare, "sim.late-share", 0, "share of events delivered --sim.late-min..--sim.late-max after their event time, 0..1")
	fs.DurationVar(&o.Traffic.MinLateness, "sim.late-min", 2*time.Minute, "minimum lateness of late deliveries")
	fs.DurationVar(&o.Traffic.MaxLateness, "sim.late-max", 3*time.Hour, "maximum lateness of late deliveries")
	fs.Float64Var(&o.Traffic.MalformedShare, "sim.malformed-share", 0, "share of malformed pushes (bad JSON, garbled time, unknown platform, missing field), 0..1")
	fs.Float64Var(&o.Traffic.DropShare, "sim.drop-share", 0, "share of events never pushed (only a pull backfill recovers them), 0..1")
	fs.IntVar(&o.Count, "sim.count", 0, "stop pushing after this many deliveries (the Pull API keeps serving); 0 = no limit")
	fs.DurationVar(&o.StatsInterval, "sim.stats-interval", 10*time.Second, "how often to log events/s")

	fs.StringVar(&o.Listen, "pull.listen", "127.0.0.1:8090", "address of the fake Pull API (GET /api/raw-data/export/app/{app}/{report}/v5); empty disables it")
	settings.Secret(fs, &pullTokens, "pull.token", "", "accepted Pull API V2 token(s), comma-separated (prefer the env variable or --pull.token-file)", "file holding the accepted Pull API token(s); wins over --pull.token")
	fs.StringVar(&quotaStr, "pull.quota", "appsflyer", `report calls per app, report and UTC day: "appsflyer" (24 installs, 12 in-app), a number, or "unlimited"`)
	fs.IntVar(&o.Server.RowCap, "pull.row-cap", 0, "truncate reports at this many rows instead of maximum_rows; 0 = maximum_rows")
	fs.BoolVar(&o.Server.Direct, "pull.direct", false, "answer reports with 200 + CSV instead of a 302 to a one-time download URL")
	fs.StringVar(&o.Server.DownloadBaseURL, "pull.download-base-url", "", "scheme://host of one-time download URLs; empty = the host the request came to")

	fs.StringVar(&o.Push.URL, "push.url", "", "push endpoint (e.g. http://127.0.0.1:8080/appsflyer); empty = generate traffic for the Pull API only")
	fs.StringVar(&o.Push.Method, "push.method", "POST", "POST (JSON body) or GET (fields as query parameters)")
	settings.Secret(fs, &o.Push.Token, "push.token", "", "static push token sent in --push.token-header (prefer the env variable or --push.token-file)", "file holding the push token; wins over --push.token")
	fs.StringVar(&o.Push.TokenHeader, "push.token-header", "Authorization", "header carrying the push token")
	fs.BoolVar(&o.Push.Typed, "push.typed", false, "send JSON booleans and numbers instead of strings")
	fs.IntVar(&o.Push.Retries, "push.retries", 0, "retry a 5xx answer this many times (AppsFlyer partner postbacks: 4)")
	fs.DurationVar(&o.Push.RetryInterval, "push.retry-interval", 15*time.Minute, "wait between push retries")
	fs.DurationVar(&pushTimeout, "push.timeout", 10*time.Second, "timeout of one push request")
	fs.IntVar(&o.Workers, "push.workers", 8, "concurrent push requests")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if pushTimeout <= 0 {
		return fmt.Errorf("--push.timeout=%v: want > 0", pushTimeout)
	}
	o.Push.Client = &http.Client{Timeout: pushTimeout}
	o.Server.Tokens = settings.SplitList(pullTokens)
	if o.Listen == "" {
		o.Server.Tokens = nil
	} else if len(o.Server.Tokens) == 0 {
		return fmt.Errorf("--pull.token or --pull.token-file (env %s) is required when --pull.listen is set", envName("pull.token"))
	}
	switch quotaStr {
	case "appsflyer":
	case "unlimited":
		o.Server.QuotaPerDay = -1
	default:
		if _, err := fmt.Sscanf(quotaStr, "%d", &o.Server.QuotaPerDay); err != nil || o.Server.QuotaPerDay < 1 {
			return fmt.Errorf("--pull.quota=%q: want \"appsflyer\", \"unlimited\" or a positive number", quotaStr)
		}
	}
	return simulate.Run(ctx, o, log)
}
