package ingest

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/pull"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/push"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Options configures the ingest service: Kafka, the push receiver and the
// pull poller.
type Options struct {
	Kafka publish.Options
	Push  push.Options
	Pull  pull.Options
	// DisablePush turns the push receiver off. Default false (on).
	DisablePush bool
	// OpsAddr is the listen address of /healthz, /readyz and /metrics, kept
	// apart from the push port so that what faces AppsFlyer exposes neither
	// readiness nor metrics. Empty: no such listener, except that with the
	// receiver off Push.Addr serves them. Default empty.
	OpsAddr string
	// SkipTopicCreation skips creating the topics at start. Default false.
	SkipTopicCreation bool
	// ProgressInterval is how often events/s per source is logged;
	// settings.Off means never. Default 10s.
	ProgressInterval time.Duration
	// StopTimeout bounds flushing the producers on shutdown. Default 30s.
	StopTimeout time.Duration
}

// PullEnabled reports whether the poller runs: it does when apps are set.
func (o Options) PullEnabled() bool { return len(o.Pull.Apps) > 0 }

// Flag names of ingest's own settings.
const (
	FlagPushEnabled       = "push.enabled"
	FlagSkipTopicCreation = "kafka.skip-topic-creation"
	FlagProgressInterval  = "ingest.progress-interval"
	FlagStopTimeout       = "ingest.stop-timeout"
)

// RegisterFlags registers ingest's own settings and those of its parts
// (Kafka, push receiver, pull poller).
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	o.Kafka.RegisterFlags(fs)
	fs.BoolVar(&o.SkipTopicCreation, FlagSkipTopicCreation, false, "do not create the topics at start")
	settings.Not(fs, &o.DisablePush, FlagPushEnabled, true, "run the push receiver (off and --http.addr empty: --push.addr serves only /healthz, /readyz and /metrics)")
	o.Push.RegisterFlags(fs)
	o.Pull.RegisterFlags(fs)
	settings.OffDuration(fs, &o.ProgressInterval, FlagProgressInterval, 10*time.Second, "log events/s per source this often; 0 = never")
	fs.DurationVar(&o.StopTimeout, FlagStopTimeout, 30*time.Second, "how long flushing the producers may take on shutdown")
}

// WithDefaults returns o with every zero setting, its parts' included,
// replaced by its default.
func (o Options) WithDefaults() Options {
	return settings.WithDefaults(o, (*Options).RegisterFlags)
}

// Validate reports the first bad setting by its flag name.
func (o Options) Validate() error {
	if err := o.Kafka.Validate(); err != nil {
		return err
	}
	if !o.DisablePush {
		if err := o.Push.Validate(); err != nil {
			return err
		}
	}
	if o.PullEnabled() {
		if err := o.Pull.Validate(); err != nil {
			return err
		}
	}
	switch {
	case o.DisablePush && !o.PullEnabled():
		return fmt.Errorf("%s/%s: nothing to do (push disabled and no apps to pull)", FlagPushEnabled, pull.FlagApps)
	case o.ProgressInterval < 0 && o.ProgressInterval != settings.Off:
		return errors.New(FlagProgressInterval + ": must be >= 0")
	case o.StopTimeout <= 0:
		return errors.New(FlagStopTimeout + ": must be > 0")
	}
	return nil
}
