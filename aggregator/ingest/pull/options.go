package pull

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Options configures the poller.
type Options struct {
	// BaseURL is the Pull API host. Default "https://hq1.appsflyer.com".
	BaseURL string
	// Token is the API V2 bearer token. Required; never logged.
	Token string
	// Apps are the app ids to pull. Required.
	Apps []string
	// Reports are the raw-data reports pulled per app. Default all of
	// appsflyer.Reports.
	Reports []string
	// Window is the event-time span of one pull. Default 1h (the installs
	// quota is 24 calls per app and day).
	Window time.Duration
	// CatchUpWindow is the largest span pulled at once when the cursor is
	// more than one Window behind (after downtime). A multiple of Window;
	// truncated pulls are split anyway. Default 24h.
	CatchUpWindow time.Duration
	// Delay keeps pulls behind now, because AppsFlyer lists events some
	// minutes after they happened; settings.Off for none. Default 10m.
	Delay time.Duration
	// Start is where a (app, report) without a stored cursor begins.
	// Default: the last whole Window that is Delay behind now.
	Start time.Time
	// Until stops each stream once its cursor reaches it. Default zero:
	// poll forever.
	Until time.Time
	// MaxRows is maximum_rows: 200000 or 1000000. Default 200000.
	MaxRows int
	// RequestTimeout bounds one report request including its download.
	// Default 4m.
	RequestTimeout time.Duration
	// RetryBase, RetryCap and RetryAttempts shape the exponential backoff
	// (with 20% jitter) for 5xx, timeouts and dropped connections.
	// Defaults 2s, 2m, 8.
	RetryBase     time.Duration
	RetryCap      time.Duration
	RetryAttempts uint64
	// TransactionalID of the Kafka producer. One poller per id: a second
	// one fences the first. Default "campaignpulse-ingest-pull".
	TransactionalID string
	// TransactionTimeout is the Kafka transaction timeout. A transaction
	// only produces at most TransactionRecords records of a report already
	// downloaded, so it is independent of RequestTimeout. Default 1m.
	TransactionTimeout time.Duration
	// TransactionRecords bounds the records of one pull transaction. A
	// downloaded window is produced in consecutive transactions of at most
	// this many records, the cursor moving with the last: an open
	// transaction holds back every read_committed reader of the partitions
	// it wrote to (push events behind it included), so it must stay short
	// whatever the size of the report. Default 5000, by measurement
	// (make bench-freshness, a 210,000-row report under 2,000 push events/s
	// on Apache Kafka, 2 shared cores): one transaction for the report
	// stayed open 5.5 s; 5,000 records meant 42 transactions of ~0.3 s
	// each; 1,000 records held readers only 0.1 s at a time but the fixed
	// cost of 210 commits stretched the report's produce to 21 s without a
	// better live-stream p99; 20,000 held readers ~0.5 s at a time.
	TransactionRecords int
	// SpoolMemory bounds the bytes of a downloaded report held in memory
	// until its transaction; beyond it the report is spooled to a file in
	// SpoolDir. Every app and report downloads at once, so the heap bound
	// is SpoolMemory times their number. Default 32 MiB.
	SpoolMemory int
	// SpoolDir holds the spool files. Default: the system temp directory.
	SpoolDir string
}

// Flag names of the poller's settings.
const (
	FlagBaseURL            = "appsflyer.base-url"
	FlagToken              = "appsflyer.token"
	FlagApps               = "pull.apps"
	FlagReports            = "pull.reports"
	FlagWindow             = "pull.window"
	FlagCatchUpWindow      = "pull.catch-up-window"
	FlagDelay              = "pull.delay"
	FlagStart              = "pull.start"
	FlagMaxRows            = "pull.max-rows"
	FlagRequestTimeout     = "pull.request-timeout"
	FlagRetryBase          = "pull.retry-base"
	FlagRetryCap           = "pull.retry-cap"
	FlagRetryAttempts      = "pull.retry-attempts"
	FlagTransactionalID    = "pull.transactional-id"
	FlagTransactionTimeout = "pull.transaction-timeout"
	FlagTransactionRecords = "pull.transaction-records"
	FlagSpoolMemory        = "pull.spool-memory-bytes"
	FlagSpoolDir           = "pull.spool-dir"
)

// RegisterFlags registers the --pull.* settings and the AppsFlyer host and
// token; the defaults written here are the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.BaseURL, FlagBaseURL, "https://hq1.appsflyer.com", "Pull API host (the simulator's URL in tests and make run)")
	settings.Secret(fs, &o.Token, FlagToken, "", "Pull API V2 token (prefer CAMPAIGNPULSE_APPSFLYER_TOKEN_FILE)", "file holding the Pull API token; wins over --appsflyer.token")
	settings.List(fs, &o.Apps, FlagApps, nil, "comma-separated app ids to pull; empty disables the poller")
	settings.List(fs, &o.Reports, FlagReports, appsflyer.Reports, "comma-separated raw-data reports to pull")
	fs.DurationVar(&o.Window, FlagWindow, time.Hour, "event-time span of one pull (installs quota: 24 calls/app/day)")
	fs.DurationVar(&o.CatchUpWindow, FlagCatchUpWindow, 24*time.Hour, "largest span per pull while catching up; a multiple of --pull.window")
	settings.OffDuration(fs, &o.Delay, FlagDelay, 10*time.Minute, "how far behind now windows are pulled; 0 = up to now")
	settings.Time(fs, &o.Start, FlagStart, "RFC 3339 start for reports without a cursor; empty = the last whole window")
	fs.IntVar(&o.MaxRows, FlagMaxRows, appsflyer.MaxRowsDefault, "maximum_rows: 200000 or 1000000 (windows reaching it are split)")
	fs.DurationVar(&o.RequestTimeout, FlagRequestTimeout, 4*time.Minute, "timeout of one report request including the download")
	fs.DurationVar(&o.RetryBase, FlagRetryBase, 2*time.Second, "first backoff after a 5xx/timeout/dropped connection")
	fs.DurationVar(&o.RetryCap, FlagRetryCap, 2*time.Minute, "largest backoff")
	fs.Uint64Var(&o.RetryAttempts, FlagRetryAttempts, 8, "attempts per window before waiting --pull.retry-cap and starting over")
	fs.StringVar(&o.TransactionalID, FlagTransactionalID, "campaignpulse-ingest-pull", "Kafka transactional id; one poller per id (a new one fences the old)")
	fs.DurationVar(&o.TransactionTimeout, FlagTransactionTimeout, time.Minute, "Kafka transaction timeout (a transaction only produces up to --pull.transaction-records records of an already downloaded window)")
	fs.IntVar(&o.TransactionRecords, FlagTransactionRecords, 5000, "records per pull transaction; a larger window is produced in several, the cursor moving with the last (an open transaction holds back read_committed readers of raw_events: 5000 keeps it near 0.25 s)")
	fs.IntVar(&o.SpoolMemory, FlagSpoolMemory, 32<<20, "bytes of one downloaded window kept in memory until its transaction; more goes to --pull.spool-dir")
	fs.StringVar(&o.SpoolDir, FlagSpoolDir, "", "directory of the spool files of large downloaded windows; empty = the system temp directory")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o Options) WithDefaults() Options {
	return settings.WithDefaults(o, (*Options).RegisterFlags)
}

// delay is the effective Delay (settings.Off: none).
func (o Options) delay() time.Duration { return settings.Duration(o.Delay) }

// Validate reports the first bad setting by its flag name.
func (o Options) Validate() error {
	u, err := url.Parse(o.BaseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%s: %q is not an http(s) URL", FlagBaseURL, o.BaseURL)
	case u.User != nil:
		return errors.New(FlagBaseURL + ": must not carry credentials")
	case o.Token == "":
		return errors.New(FlagToken + ": required (CAMPAIGNPULSE_APPSFLYER_TOKEN_FILE or CAMPAIGNPULSE_APPSFLYER_TOKEN)")
	case len(o.Apps) == 0:
		return errors.New(FlagApps + ": at least one app id is required")
	case o.Window < time.Second || o.Window%time.Second != 0:
		return fmt.Errorf("%s: %s, must be whole seconds >= 1s", FlagWindow, o.Window)
	case o.CatchUpWindow < o.Window || o.CatchUpWindow%o.Window != 0:
		return fmt.Errorf("%s: %s, must be a multiple of %s %s", FlagCatchUpWindow, o.CatchUpWindow, FlagWindow, o.Window)
	case o.Delay < 0 && o.Delay != settings.Off:
		return fmt.Errorf("%s: %s, must be >= 0", FlagDelay, o.Delay)
	case o.MaxRows != appsflyer.MaxRowsDefault && o.MaxRows != appsflyer.MaxRowsLarge:
		return fmt.Errorf("%s: %d, AppsFlyer accepts %d or %d", FlagMaxRows, o.MaxRows, appsflyer.MaxRowsDefault, appsflyer.MaxRowsLarge)
	case o.RequestTimeout <= 0:
		return fmt.Errorf("%s: %s, must be > 0", FlagRequestTimeout, o.RequestTimeout)
	case o.RetryBase <= 0 || o.RetryCap < o.RetryBase:
		return fmt.Errorf("%s/%s: %s/%s, want 0 < base <= cap", FlagRetryBase, FlagRetryCap, o.RetryBase, o.RetryCap)
	case o.RetryAttempts < 1:
		return errors.New(FlagRetryAttempts + ": must be >= 1")
	case o.TransactionalID == "":
		return errors.New(FlagTransactionalID + ": empty")
	case o.TransactionTimeout < time.Second:
		return fmt.Errorf("%s: %s, must be >= 1s", FlagTransactionTimeout, o.TransactionTimeout)
	case o.TransactionRecords < 1:
		return fmt.Errorf("%s: %d, must be >= 1", FlagTransactionRecords, o.TransactionRecords)
	case o.SpoolMemory < 0:
		return fmt.Errorf("%s: %d, must be >= 0", FlagSpoolMemory, o.SpoolMemory)
	case !o.Start.IsZero() && o.Start.Truncate(time.Second) != o.Start:
		return fmt.Errorf("%s: %s, must be whole seconds", FlagStart, o.Start)
	}
	for _, a := range o.Apps {
		if a == "" || strings.ContainsAny(a, "/|?# ") {
			return fmt.Errorf("%s: bad app id %q", FlagApps, a)
		}
	}
	for _, r := range o.Reports {
		if !appsflyer.IsReport(r) {
			return fmt.Errorf("%s: unknown report %q (known: %s)", FlagReports, r, strings.Join(appsflyer.Reports, ","))
		}
	}
	return nil
}
