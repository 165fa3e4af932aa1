package aggregate

import (
	"context"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
)

// Store is what the aggregator needs from its storage: windows, checkpoints,
// freshness and expiry. *metricstore.Store is the implementation; the
// aggregator depends on these methods only.
type Store interface {
	LoadCheckpoint(ctx context.Context, topic string, partition int32) (cp metricdoc.Checkpoint, found bool, err error)
	SaveCheckpoint(ctx context.Context, cp metricdoc.Checkpoint) error
	LoadLive(ctx context.Context, partition int32, endAfter time.Time) ([]metricdoc.Live, error)
	GetLive(ctx context.Context, ids []string) ([]metricdoc.Live, error)
	WriteLive(ctx context.Context, docs []metricdoc.Live) (stale []string, err error)
	Finalize(ctx context.Context, g metricdoc.Granularity, docs []metricdoc.Final) error
	UpsertFreshness(ctx context.Context, docs []metricdoc.Freshness) error
	Expire(ctx context.Context) (deleted int64, err error)
	ScheduleLiveExpiry(ctx context.Context, topic string) (int64, error)
}

var _ Store = (*metricstore.Store)(nil)
