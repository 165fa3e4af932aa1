package aggregate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
)

// flush writes every owned partition. Called with a.mu held.
func (a *Aggregator) flush(ctx context.Context) error {
	parts := make([]*partState, 0, len(a.parts))
	for _, ps := range a.parts {
		parts = append(parts, ps)
	}
	return a.flushParts(ctx, parts, true)
}

// flushOnly writes the given partitions (on revoke). Called with a.mu held.
func (a *Aggregator) flushOnly(ctx context.Context, ps []int32) error {
	var parts []*partState
	for _, p := range ps {
		if s := a.parts[p]; s != nil {
			parts = append(parts, s)
		}
	}
	return a.flushParts(ctx, parts, false)
}

// flushParts makes the partitions durable. First the dead-letter records
// produced so far are acknowledged by Kafka; then, partition by partition
// (so each one makes progress even when a crash interrupts a long flush):
//  1. changed windows to live_metrics (absolute totals, offset-guarded);
//  2. windows past the correction horizon appended once to the
//     time-series collections, their live documents marked final;
//  3. the checkpoint (forward only).
//
// Each step is safe to repeat after a crash. Last come freshness, Kafka
// offset commits (monitoring only) and the aggregated_metrics updates.
// With inLoop, a partition found to be behind MongoDB is reloaded.
func (a *Aggregator) flushParts(ctx context.Context, parts []*partState, inLoop bool) error {
	began := time.Now()
	now := a.opts.Now().UTC()
	sort.Slice(parts, func(i, j int) bool { return parts[i].p < parts[j].p })

	a.produceChangelog(parts)
	if err := a.cl.Flush(ctx); err != nil {
		return fmt.Errorf("wait for dead-letter acks: %w", err)
	}
	if err := a.logCl.Flush(ctx); err != nil {
		return fmt.Errorf("wait for changelog acks: %w", err)
	}
	lostDLQ := a.takeDLQFailures()
	lostLog := a.takeLogFailures()

	var written []written
	commits := make(map[int32]kgo.EpochOffset)
	for _, ps := range parts {
		if lostDLQ[ps.p] || lostLog[ps.p] {
			if err := a.reload(ctx, ps.p, inLoop, "dead-letter or changelog records were not acknowledged"); err != nil {
				return err
			}
			continue
		}
		changelogAcked(ps)
		w, err := a.writeLive(ctx, ps, now)
		if err != nil {
			return err
		}
		written = append(written, w...)
		if a.afterLiveWrite != nil && len(w) > 0 {
			a.afterLiveWrite()
		}
		if err := a.finalize(ctx, ps); err != nil {
			return err
		}
		cp := ps.checkpoint(a.opts.Topic, now)
		if cp.Offset == ps.saved.Offset && cp.FinalizedHour.Equal(ps.saved.FinalizedHour) && cp.FinalizedDay.Equal(ps.saved.FinalizedDay) {
			continue
		}
		err = a.store.SaveCheckpoint(ctx, cp)
		if errors.Is(err, metricstore.ErrStaleCheckpoint) {
			a.m.conflicts.WithLabelValues("checkpoint").Inc()
			if err := a.reload(ctx, ps.p, inLoop, "another consumer got further"); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		ps.saved, ps.finalH, ps.finalD = cp, cp.FinalizedHour, cp.FinalizedDay
		commits[ps.p] = kgo.EpochOffset{Epoch: -1, Offset: cp.Offset}
		if c := ps.cutoffMs(); c != noTime {
			if err := ps.dedup.Prune(floorDiv(c, 1000)); err != nil {
				return err
			}
		}
	}

	a.m.observeVisible(parts, a.opts.Now().UnixMilli())
	if err := a.writeFreshness(ctx, parts, now); err != nil {
		a.log.Warn("freshness write failed", "err", err)
	}
	a.commit(commits)
	a.publish(written, now)

	open, ids := 0, 0
	for _, ps := range a.parts {
		open += len(ps.windows)
		ids += ps.dedup.Len()
		a.publishPartition(ps)
	}
	a.m.windowsOpen.Set(float64(open))
	a.m.dedupSize.Set(float64(ids))
	a.m.hotIdentities.Set(float64(a.state.Hot()))
	a.m.stateBytes.Set(float64(a.state.DiskBytes()))
	a.m.flush.Observe(time.Since(began).Seconds())
	return nil
}

// written is one window as stored by a flush, for aggregated_metrics.
type written struct {
	ps  *partState
	w   *window
	off int64
}

func (a *Aggregator) writeLive(ctx context.Context, ps *partState, now time.Time) ([]written, error) {
	var (
		docs []metricdoc.Live
		out  []written
	)
	for _, w := range ps.dirty {
		if w.dirty {
			docs = append(docs, w.live(ps.p, ps.next, now))
			out = append(out, written{ps, w, ps.next})
		}
	}
	if len(docs) == 0 {
		ps.dirty = ps.dirty[:0]
		return nil, nil
	}
	stale, err := a.store.WriteLive(ctx, docs)
	if err != nil {
		return nil, err
	}
	for _, x := range out {
		x.w.dirty, x.w.docOffset = false, x.off
	}
	ps.dirty = ps.dirty[:0]
	if len(stale) > 0 {
		// Someone included more of the partition: take their totals.
		stored, err := a.store.GetLive(ctx, stale)
		if err != nil {
			return nil, err
		}
		for i := range stored {
			ps.adopt(&stored[i])
		}
		a.m.conflicts.WithLabelValues("live_window").Add(float64(len(stale)))
		a.log.Warn("live documents were newer than this consumer's; adopted them", "partition", ps.p, "windows", len(stale))
	}
	return out, nil
}

// finalize appends the windows of ps that can no longer change.
func (a *Aggregator) finalize(ctx context.Context, ps *partState) error {
	for _, g := range []metricdoc.Granularity{metricdoc.Hour, metricdoc.Day} {
		wins := ps.finalizable(g)
		if len(wins) == 0 {
			continue
		}
		docs := make([]metricdoc.Final, len(wins))
		for i, w := range wins {
			docs[i] = metricdoc.Final{
				WindowStart: w.start,
				Meta:        w.key.meta, Partition: ps.p, Totals: w.totals,
			}
		}
		if err := a.store.Finalize(ctx, g, docs); err != nil {
			return err
		}
		for _, w := range wins {
			delete(ps.windows, w.key)
		}
		a.m.finalized.WithLabelValues(string(g)).Add(float64(len(docs)))
	}
	return nil
}

// reload replaces a partition's state with MongoDB's. Outside the poll loop
// (on revoke) the partition is simply dropped by the caller.
func (a *Aggregator) reload(ctx context.Context, p int32, inLoop bool, why string) error {
	a.log.Warn("partition state is behind; reloading", "partition", p, "reason", why)
	if !inLoop {
		return nil
	}
	return a.resync(ctx, p)
}

func (a *Aggregator) writeFreshness(ctx context.Context, parts []*partState, now time.Time) error {
	merged := make(map[freshKey]freshVal)
	for _, ps := range parts {
		for k, v := range ps.fresh {
			m := merged[k]
			merged[k] = freshVal{eventMs: max(m.eventMs, v.eventMs), ingestMs: max(m.ingestMs, v.ingestMs)}
		}
	}
	if len(merged) == 0 {
		return nil
	}
	docs := make([]metricdoc.Freshness, 0, len(merged))
	for k, v := range merged {
		docs = append(docs, metricdoc.Freshness{
			ID: k.app + "|" + k.source, AppID: k.app, Source: k.source,
			LastEventAt: time.UnixMilli(v.eventMs).UTC(), LastIngest: time.UnixMilli(v.ingestMs).UTC(), UpdatedAt: now,
		})
	}
	if err := a.store.UpsertFreshness(ctx, docs); err != nil {
		return err
	}
	for _, ps := range parts {
		clear(ps.fresh)
	}
	return nil
}

// commit stores the checkpointed offsets in Kafka too, for lag monitoring
// (kadm, Burrow); recovery never reads them.
func (a *Aggregator) commit(offsets map[int32]kgo.EpochOffset) {
	if len(offsets) == 0 {
		return
	}
	a.cl.CommitOffsets(context.Background(), map[string]map[int32]kgo.EpochOffset{a.opts.Topic: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				a.m.kafkaErrors.WithLabelValues("commit").Inc()
			}
		})
}

// publish sends the stored totals of the written windows to
// aggregated_metrics, so followers need no MongoDB.
func (a *Aggregator) publish(ws []written, now time.Time) {
	for _, x := range ws {
		u := metricdoc.Update{
			Granularity: x.w.key.gran, WindowStart: x.w.start, WindowEnd: x.w.end, Meta: x.w.key.meta,
			Partition: x.ps.p, Totals: x.w.totals, Offset: x.w.docOffset,
			Final: !x.ps.watermark().Before(x.w.end) && x.ps.maxMs != noTime, UpdatedAt: now,
		}
		v, err := json.Marshal(&u)
		if err != nil {
			continue
		}
		a.cl.Produce(nil, &kgo.Record{Topic: a.opts.UpdatesTopic, Key: []byte(u.Key()), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				a.m.kafkaErrors.WithLabelValues("publish").Inc()
			}
		})
	}
}
