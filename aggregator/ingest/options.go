package ingest

import (
	"errors"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/pull"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/push"
)

// Options configures the ingest service: Kafka, the push receiver and the
// pull poller.
type Options struct {
	Kafka publish.Options
	Push  push.Options
	Pull  pull.Options
	// DisablePush turns the push receiver off (Push.Addr then serves only
	// /healthz and /metrics). Default false (on).
	DisablePush bool
	// SkipTopicCreation skips creating the topics at start. Default false.
	SkipTopicCreation bool
	// ProgressInterval is how often events/s per source is logged; 0 means
	// never. Default 0.
	ProgressInterval time.Duration
	// StopTimeout bounds flushing the producers on shutdown. Default 30s.
	StopTimeout time.Duration
}

// PullEnabled reports whether the poller runs: it does when apps are set.
func (o Options) PullEnabled() bool { return len(o.Pull.Apps) > 0 }

// WithDefaults fills every part's defaults.
func (o Options) WithDefaults() Options {
	o.Kafka = o.Kafka.WithDefaults()
	o.Push = o.Push.WithDefaults()
	if o.PullEnabled() {
		o.Pull = o.Pull.WithDefaults()
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 30 * time.Second
	}
	return o
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
		return errors.New("push.enabled/pull.apps: nothing to do (push disabled and no apps to pull)")
	case o.ProgressInterval < 0:
		return errors.New("ingest.progress-interval: must be >= 0")
	case o.StopTimeout <= 0:
		return errors.New("ingest.stop-timeout: must be > 0")
	}
	return nil
}
