package metricstore

import (
	"fmt"
	"time"
)

// Options configure the store.
type Options struct {
	// Database holds every campaignpulse collection. Default "campaignpulse".
	Database string
	// HourlyRetention is expireAfterSeconds of hourly_metrics. Default 90 days.
	HourlyRetention time.Duration
	// DailyRetention is expireAfterSeconds of daily_metrics. Default 2 years.
	DailyRetention time.Duration
	// LiveGrace is how long a finalized live document stays in live_metrics
	// after every reader takes its window from the time-series collection
	// (see ScheduleLiveExpiry), for readers holding older checkpoints.
	// Default 48 h.
	LiveGrace time.Duration
	// BatchSize bounds the updates of one bulk write. FerretDB stalls on bulk
	// updates of 100 or more existing documents; real MongoDB takes
	// thousands. Default 50.
	BatchSize int
	// AtomicLiveWrites keeps the atomic offset-guarded update on FerretDB
	// too, where it scans live_metrics per update (slow) but, unlike the
	// read-then-write by _id used there otherwise, refuses a stale writer
	// that races a newer one. Default false (MongoDB always uses it).
	AtomicLiveWrites bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Database == "" {
		o.Database = "campaignpulse"
	}
	if o.HourlyRetention == 0 {
		o.HourlyRetention = 90 * 24 * time.Hour
	}
	if o.DailyRetention == 0 {
		o.DailyRetention = 2 * 365 * 24 * time.Hour
	}
	if o.LiveGrace == 0 {
		o.LiveGrace = 48 * time.Hour
	}
	if o.BatchSize == 0 {
		o.BatchSize = 50
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	switch {
	case o.HourlyRetention < time.Hour:
		return fmt.Errorf("mongo.hourly-retention %s: must be at least 1h", o.HourlyRetention)
	case o.DailyRetention < 24*time.Hour:
		return fmt.Errorf("mongo.daily-retention %s: must be at least 24h", o.DailyRetention)
	case o.LiveGrace < 0:
		return fmt.Errorf("mongo.live-grace %s: must not be negative", o.LiveGrace)
	case o.BatchSize < 1 || o.BatchSize > 100000:
		return fmt.Errorf("mongo.batch-size %d: must be between 1 and 100000", o.BatchSize)
	}
	return nil
}
