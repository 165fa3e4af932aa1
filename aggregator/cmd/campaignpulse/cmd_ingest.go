package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
)

func init() {
	register("ingest", "AppsFlyer push receiver + pull poller -> Kafka raw_events", runIngest)
}

// runIngest runs the push receiver and the pull poller (or, with
// --backfill.from/--backfill.to, one backfill) until SIGTERM. Tokens come
// from files or CAMPAIGNPULSE_* env and are never logged.
func runIngest(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	kafka := kafkaFlags(fs)
	var (
		o                                  ingest.Options
		pushOn, skipTopics                 bool
		pushToken, pushTokenFile           string
		afToken, afTokenFile               string
		apps, reports, start, bfFrom, bfTo string
		retryAttempts                      uint64
		maxRows                            int
		maxBody                            int64
	)
	fs.BoolVar(&skipTopics, "kafka.skip-topic-creation", false, "do not create the topics at start")

	fs.BoolVar(&pushOn, "push.enabled", true, "run the push receiver (off: --push.addr serves only /healthz and /metrics)")
	fs.StringVar(&o.Push.Addr, "push.addr", ":8080", "listen address of the push receiver (also /healthz, /readyz, /metrics)")
	fs.StringVar(&o.Push.Path, "push.path", "/v1/push", "postback path: POST JSON or GET query form")
	fs.StringVar(&o.Push.TokenHeader, "push.token-header", "Authorization", "header AppsFlyer sends the push token in (Push API token_name)")
	fs.StringVar(&pushToken, "push.token", "", "expected push token (prefer CAMPAIGNPULSE_PUSH_TOKEN_FILE)")
	fs.StringVar(&pushTokenFile, "push.token-file", "", "file holding the push token; wins over --push.token")
	fs.BoolVar(&o.Push.AllowNoAuth, "push.allow-no-auth", false, "accept unauthenticated pushes (local demos only)")
	fs.Int64Var(&maxBody, "push.max-body-bytes", 64<<10, "largest accepted POST body (413 above)")
	fs.DurationVar(&o.Push.ReadHeaderTimeout, "push.read-header-timeout", 5*time.Second, "time to read request headers")
	fs.DurationVar(&o.Push.ReadTimeout, "push.read-timeout", 10*time.Second, "time to read a whole request (slow bodies are cut)")
	fs.DurationVar(&o.Push.WriteTimeout, "push.write-timeout", 30*time.Second, "time from headers read to answer written; > --push.produce-timeout")
	fs.DurationVar(&o.Push.ProduceTimeout, "push.produce-timeout", 10*time.Second, "wait for Kafka's ack before answering 503")
	fs.DurationVar(&o.Push.ShutdownTimeout, "push.shutdown-timeout", 20*time.Second, "drain time for in-flight pushes on SIGTERM")

	fs.StringVar(&o.Pull.BaseURL, "appsflyer.base-url", "https://hq1.appsflyer.com", "Pull API host (the simulator's URL in tests and make run)")
	fs.StringVar(&afToken, "appsflyer.token", "", "Pull API V2 token (prefer CAMPAIGNPULSE_APPSFLYER_TOKEN_FILE)")
	fs.StringVar(&afTokenFile, "appsflyer.token-file", "", "file holding the Pull API token; wins over --appsflyer.token")
	fs.StringVar(&apps, "pull.apps", "", "comma-separated app ids to pull; empty disables the poller")
	fs.StringVar(&reports, "pull.reports", strings.Join(appsflyer.Reports, ","), "comma-separated raw-data reports to pull")
	fs.DurationVar(&o.Pull.Window, "pull.window", time.Hour, "event-time span of one pull (installs quota: 24 calls/app/day)")
	fs.DurationVar(&o.Pull.CatchUpWindow, "pull.catch-up-window", 24*time.Hour, "largest span per pull while catching up; a multiple of --pull.window")
	fs.DurationVar(&o.Pull.Delay, "pull.delay", 10*time.Minute, "how far behind now windows are pulled")
	fs.StringVar(&start, "pull.start", "", "RFC 3339 start for reports without a cursor; empty = the last whole window")
	fs.IntVar(&maxRows, "pull.max-rows", appsflyer.MaxRowsDefault, "maximum_rows: 200000 or 1000000 (windows reaching it are split)")
	fs.DurationVar(&o.Pull.RequestTimeout, "pull.request-timeout", 4*time.Minute, "timeout of one report request including the download")
	fs.DurationVar(&o.Pull.RetryBase, "pull.retry-base", 2*time.Second, "first backoff after a 5xx/timeout/dropped connection")
	fs.DurationVar(&o.Pull.RetryCap, "pull.retry-cap", 2*time.Minute, "largest backoff")
	fs.Uint64Var(&retryAttempts, "pull.retry-attempts", 8, "attempts per window before waiting --pull.retry-cap and starting over")
	fs.StringVar(&o.Pull.TransactionalID, "pull.transactional-id", "campaignpulse-ingest-pull", "Kafka transactional id; one poller per id (a new one fences the old)")
	fs.DurationVar(&o.Pull.TransactionTimeout, "pull.transaction-timeout", 5*time.Minute, "Kafka transaction timeout; > --pull.request-timeout")
	fs.StringVar(&bfFrom, "backfill.from", "", "RFC 3339: re-pull [from, to) once (within 90 days) without moving cursors, then exit")
	fs.StringVar(&bfTo, "backfill.to", "", "RFC 3339 end of the backfill range")
	fs.DurationVar(&o.ProgressInterval, "ingest.progress-interval", 10*time.Second, "log events/s per source this often; 0 = never")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	o.Kafka = kafka()
	o.DisablePush, o.SkipTopicCreation = !pushOn, skipTopics
	o.Push.MaxBodyBytes = maxBody
	o.Pull.MaxRows, o.Pull.RetryAttempts = maxRows, retryAttempts
	o.Pull.Apps, o.Pull.Reports = splitList(apps), splitList(reports)
	var err error
	if o.Push.Token, err = readSecret(pushToken, pushTokenFile); err != nil {
		return fmt.Errorf("push.token-file: %w", err)
	}
	if o.Pull.Token, err = readSecret(afToken, afTokenFile); err != nil {
		return fmt.Errorf("appsflyer.token-file: %w", err)
	}
	if o.Pull.Start, err = parseTime("pull.start", start); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	deps := ingest.Deps{Log: log, Registerer: reg, Gatherer: reg}

	if bfFrom != "" || bfTo != "" {
		from, err := parseTime("backfill.from", bfFrom)
		if err != nil {
			return err
		}
		to, err := parseTime("backfill.to", bfTo)
		if err != nil {
			return err
		}
		return ingest.Backfill(ctx, o, deps, from, to)
	}
	err = ingest.Run(ctx, o, deps)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseTime(flagName, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not RFC 3339 (e.g. 2026-11-26T00:00:00Z): %w", flagName, v, err)
	}
	return t.UTC(), nil
}
