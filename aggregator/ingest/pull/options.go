package pull

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
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
	// minutes after they happened. Default 10m.
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
	// TransactionTimeout is the Kafka transaction timeout; it must exceed
	// RequestTimeout. Default 5m.
	TransactionTimeout time.Duration
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o Options) WithDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.BaseURL == "" {
		o.BaseURL = "https://hq1.appsflyer.com"
	}
	if len(o.Reports) == 0 {
		o.Reports = slices.Clone(appsflyer.Reports)
	}
	def(&o.Window, time.Hour)
	def(&o.CatchUpWindow, 24*time.Hour)
	def(&o.Delay, 10*time.Minute)
	if o.MaxRows == 0 {
		o.MaxRows = appsflyer.MaxRowsDefault
	}
	def(&o.RequestTimeout, 4*time.Minute)
	def(&o.RetryBase, 2*time.Second)
	def(&o.RetryCap, 2*time.Minute)
	if o.RetryAttempts == 0 {
		o.RetryAttempts = 8
	}
	if o.TransactionalID == "" {
		o.TransactionalID = "campaignpulse-ingest-pull"
	}
	def(&o.TransactionTimeout, 5*time.Minute)
	return o
}

// Validate reports the first bad setting by its flag name.
func (o Options) Validate() error {
	u, err := url.Parse(o.BaseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("pull.base-url: %q is not an http(s) URL", o.BaseURL)
	case u.User != nil:
		return errors.New("pull.base-url: must not carry credentials")
	case o.Token == "":
		return errors.New("pull.token: required (CAMPAIGNPULSE_APPSFLYER_TOKEN_FILE or CAMPAIGNPULSE_APPSFLYER_TOKEN)")
	case len(o.Apps) == 0:
		return errors.New("pull.apps: at least one app id is required")
	case o.Window < time.Second || o.Window%time.Second != 0:
		return fmt.Errorf("pull.window: %s, must be whole seconds >= 1s", o.Window)
	case o.CatchUpWindow < o.Window || o.CatchUpWindow%o.Window != 0:
		return fmt.Errorf("pull.catch-up-window: %s, must be a multiple of pull.window %s", o.CatchUpWindow, o.Window)
	case o.Delay < 0:
		return fmt.Errorf("pull.delay: %s, must be >= 0", o.Delay)
	case o.MaxRows != appsflyer.MaxRowsDefault && o.MaxRows != appsflyer.MaxRowsLarge:
		return fmt.Errorf("pull.max-rows: %d, AppsFlyer accepts %d or %d", o.MaxRows, appsflyer.MaxRowsDefault, appsflyer.MaxRowsLarge)
	case o.RequestTimeout <= 0:
		return fmt.Errorf("pull.request-timeout: %s, must be > 0", o.RequestTimeout)
	case o.RetryBase <= 0 || o.RetryCap < o.RetryBase:
		return fmt.Errorf("pull.retry-base/pull.retry-cap: %s/%s, want 0 < base <= cap", o.RetryBase, o.RetryCap)
	case o.RetryAttempts < 1:
		return errors.New("pull.retry-attempts: must be >= 1")
	case o.TransactionalID == "":
		return errors.New("pull.transactional-id: empty")
	case o.TransactionTimeout <= o.RequestTimeout:
		return fmt.Errorf("pull.transaction-timeout: %s, must exceed pull.request-timeout %s", o.TransactionTimeout, o.RequestTimeout)
	case !o.Start.IsZero() && o.Start.Truncate(time.Second) != o.Start:
		return fmt.Errorf("pull.start: %s, must be whole seconds", o.Start)
	}
	for _, a := range o.Apps {
		if a == "" || strings.ContainsAny(a, "/|?# ") {
			return fmt.Errorf("pull.apps: bad app id %q", a)
		}
	}
	for _, r := range o.Reports {
		if !appsflyer.IsReport(r) {
			return fmt.Errorf("pull.reports: unknown report %q (known: %s)", r, strings.Join(appsflyer.Reports, ","))
		}
	}
	return nil
}
