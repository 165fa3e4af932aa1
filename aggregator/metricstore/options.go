package metricstore

import (
	"flag"
	"fmt"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Options configure the store.
type Options struct {
	// Database holds every campaignpulse collection. Default metricdoc.DefaultDatabase.
	Database string
	// HourlyRetention is expireAfterSeconds of hourly_metrics. Default 90 days.
	HourlyRetention time.Duration
	// DailyRetention is expireAfterSeconds of daily_metrics. Default 2 years.
	DailyRetention time.Duration
	// LiveGrace is how long a finalized live document stays in live_metrics
	// after every reader takes its window from the time-series collection
	// (see ScheduleLiveExpiry), for readers holding older checkpoints.
	// Default 48 h; settings.Off (flag 0 or off): no grace, the document
	// expires as soon as every reader has passed its window.
	LiveGrace time.Duration
	// BatchSize bounds the documents of one bulk write; real MongoDB takes
	// thousands. On FerretDB, bulk updates are further held to a few
	// statements (see ferretDBUpdates). Default 50.
	BatchSize int
	// AtomicLiveWrites keeps the atomic offset-guarded update on FerretDB
	// too, where it scans live_metrics per update (slow) but, unlike the
	// read-then-write by _id used there otherwise, refuses a stale writer
	// that races a newer one. Default false (MongoDB always uses it).
	AtomicLiveWrites bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Flag names of the store's settings.
const (
	FlagDatabase         = "mongo.database"
	FlagHourlyRetention  = "mongo.hourly-retention"
	FlagDailyRetention   = "mongo.daily-retention"
	FlagLiveGrace        = "mongo.live-grace"
	FlagBatchSize        = "mongo.batch-size"
	FlagAtomicLiveWrites = "mongo.atomic-live-writes"
)

// RegisterFlags registers the --mongo.* settings of the store (database,
// retention, batching); the defaults written here are the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Database, FlagDatabase, metricdoc.DefaultDatabase, "database of the metric collections")
	fs.DurationVar(&o.HourlyRetention, FlagHourlyRetention, 90*24*time.Hour, "expireAfterSeconds of hourly_metrics")
	fs.DurationVar(&o.DailyRetention, FlagDailyRetention, 2*365*24*time.Hour, "expireAfterSeconds of daily_metrics")
	settings.OffDuration(fs, &o.LiveGrace, FlagLiveGrace, 48*time.Hour, "how long a finalized window stays in live_metrics once every reader takes it from hourly/daily_metrics (its expire_at); 0 = removed at the next expiry")
	fs.IntVar(&o.BatchSize, FlagBatchSize, 50, "documents per bulk write (on FerretDB updates go 8 at a time; real MongoDB takes thousands)")
	fs.BoolVar(&o.AtomicLiveWrites, FlagAtomicLiveWrites, false, "on FerretDB, keep the atomic offset-guarded live update (slow there) instead of read-then-write by _id (MongoDB always uses it)")
}

// WithDefaults returns o with every zero setting replaced by its default.
func (o Options) WithDefaults() Options {
	o = settings.WithDefaults(o, (*Options).RegisterFlags)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func (o *Options) validate() error {
	switch {
	case o.HourlyRetention < time.Hour:
		return fmt.Errorf("%s %s: must be at least 1h", FlagHourlyRetention, o.HourlyRetention)
	case o.DailyRetention < 24*time.Hour:
		return fmt.Errorf("%s %s: must be at least 24h", FlagDailyRetention, o.DailyRetention)
	case o.LiveGrace < 0 && o.LiveGrace != settings.Off:
		return fmt.Errorf("%s %s: must not be negative", FlagLiveGrace, o.LiveGrace)
	case o.BatchSize < 1 || o.BatchSize > 100000:
		return fmt.Errorf("%s %d: must be between 1 and 100000", FlagBatchSize, o.BatchSize)
	}
	return nil
}
