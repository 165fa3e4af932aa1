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
)

// A flush has two halves with different clocks.
//
// The Kafka half runs every FlushInterval on the poll loop: the dead-letter
// and changelog records produced so far are acknowledged, then every window
// changed since the previous flush goes to aggregated_metrics with the
// offset its totals include. It costs milliseconds whatever the store does,
// so followers of aggregated_metrics (the live stream, dashboards fed from
// Kafka) stay a flush interval behind the events.
//
// The MongoDB half is a store round (round.go): a copy of every window
// changed since the previous round, the windows past the correction horizon
// and the checkpoint, written by a goroutine while the poll loop goes on
// counting. One round is in flight at a time, and the next one takes
// whatever changed meanwhile (at most MaxRoundWindows windows), so a slow
// store gets rounds that skip intermediate states (the totals are absolute,
// so that loses nothing) instead of holding back consumption. The loop waits
// for a round only on a rebalance and on shutdown. What a crash throws away
// is bounded by the same rule as before: everything after the last
// checkpoint is replayed, and a checkpoint follows every round that wrote
// all of a partition's changes.

// flushPaced runs the Kafka half and, when no round is in flight and the
// retry backoff allows, starts a store round. Called with a.mu held.
func (a *Aggregator) flushPaced(ctx context.Context, pc *pacing) {
	a.collectRound(ctx, pc)
	now := a.opts.Now()
	pc.nextFlush = now.Add(a.opts.FlushInterval)
	parts, err := a.stage(ctx, a.owned(), true)
	if err != nil {
		if ctx.Err() == nil {
			a.failed(pc, err)
		}
		return
	}
	if a.round == nil && !now.Before(pc.nextWrite) && !a.startRound(parts, a.opts.MaxRoundWindows) {
		// Nothing to write and Kafka answered: whatever failed before
		// (a round, or this half) is over.
		a.succeeded(pc)
	}
	a.ready.Store(len(a.parts) > 0)
}

// owned lists the partition states in partition order.
func (a *Aggregator) owned() []*partState {
	parts := make([]*partState, 0, len(a.parts))
	for _, ps := range a.parts {
		parts = append(parts, ps)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].p < parts[j].p })
	return parts
}

// succeeded and failed keep the pacing after a store round: a failed round
// pauses consumption and retries after a backoff, a good one resumes it.
func (a *Aggregator) succeeded(pc *pacing) {
	a.lastErr.Store(nil)
	if pc.paused {
		a.cl.ResumeFetchTopics(a.opts.Topic)
		a.m.paused.Set(0)
		a.log.Info("flush recovered; consuming again")
		pc.paused, pc.backoff = false, newBackoff()
	}
	pc.nextWrite = time.Time{}
}

func (a *Aggregator) failed(pc *pacing, err error) {
	a.m.mongoErrors.Inc()
	a.lastErr.Store(&err)
	if !pc.paused {
		a.cl.PauseFetchTopics(a.opts.Topic)
		a.m.paused.Set(1)
		a.log.Error("flush failed; pausing consumption and retrying", "err", err)
		pc.paused = true
	}
	d, _ := pc.backoff.Next()
	pc.nextWrite = a.opts.Now().Add(d)
	pc.nextFlush = pc.nextWrite
}

// flushAll and flushOnly write partitions at once, both halves, and wait
// for the store: on shutdown and on revoke. Called with a.mu held.
func (a *Aggregator) flushAll(ctx context.Context) error { return a.flushParts(ctx, nil, true) }

func (a *Aggregator) flushOnly(ctx context.Context, ps []int32) error {
	if len(ps) == 0 {
		return nil
	}
	return a.flushParts(ctx, ps, false)
}

func (a *Aggregator) flushParts(ctx context.Context, only []int32, all bool) error {
	if r := a.round; r != nil {
		a.finishRound(ctx, r)
		if err := a.applyRound(ctx, r, false); err != nil {
			a.log.Warn("the store round in flight failed; writing again", "err", err)
		}
	}
	var parts []*partState
	if all {
		parts = a.owned()
	} else {
		for _, p := range only {
			if ps := a.parts[p]; ps != nil {
				parts = append(parts, ps)
			}
		}
	}
	parts, err := a.stage(ctx, parts, false)
	if err != nil {
		return err
	}
	r := a.newRound(parts, 0)
	a.writeRound(ctx, r)
	return a.applyRound(ctx, r, false)
}

// stage is the Kafka half of a flush: changelog and dead-letter records
// acknowledged, changed windows published. It returns the partitions whose
// records were all acknowledged; the others are reloaded (in the loop)
// rather than checkpointed without them.
func (a *Aggregator) stage(ctx context.Context, parts []*partState, inLoop bool) ([]*partState, error) {
	a.produceChangelog(parts)
	if err := a.cl.Flush(ctx); err != nil {
		return nil, fmt.Errorf("wait for dead-letter acks: %w", err)
	}
	if err := a.logCl.Flush(ctx); err != nil {
		return nil, fmt.Errorf("wait for changelog acks: %w", err)
	}
	lostDLQ := a.takeFailures(&a.dlqFailed)
	lostLog := a.takeFailures(&a.logFailed)
	lostPub := a.takeFailures(&a.pubFailed)
	acked := make([]*partState, 0, len(parts))
	for _, ps := range parts {
		if lostDLQ[ps.p] || lostLog[ps.p] {
			if err := a.reload(ctx, ps.p, inLoop, "dead-letter or changelog records were not acknowledged"); err != nil {
				return nil, err
			}
			continue
		}
		changelogAcked(ps)
		if lostPub[ps.p] {
			ps.republish()
		}
		acked = append(acked, ps)
	}
	a.publish(acked, a.opts.Now().UTC())

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
	return acked, nil
}

// reload replaces a partition's state with MongoDB's. Outside the poll loop
// (group callbacks) it is deferred to the loop's next iteration; a revoked
// partition is simply dropped by the caller.
func (a *Aggregator) reload(ctx context.Context, p int32, inLoop bool, why string) error {
	a.log.Warn("partition state is behind; reloading", "partition", p, "reason", why)
	if !inLoop {
		a.pendingReload[p] = why
		return nil
	}
	return a.resync(ctx, p)
}

// reloadPending runs the reloads group callbacks deferred. Called from the
// poll loop with a.mu held.
func (a *Aggregator) reloadPending(ctx context.Context) {
	for p := range a.pendingReload {
		delete(a.pendingReload, p)
		if a.parts[p] == nil {
			continue
		}
		if err := a.resync(ctx, p); err != nil {
			a.log.Error("reloading a partition failed", "partition", p, "err", err)
		}
	}
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

// publish sends the windows changed since the last publish to
// aggregated_metrics with the offset their totals include, so followers
// need no MongoDB. The totals of a partition's prefix are the same in every
// run (decisions depend only on earlier records), so an update is never
// wrong, only possibly ahead of MongoDB. A partition that lost an update
// sends all its open windows again at the next flush (stage waits for the
// acks first), so a follower never keeps a total the aggregator moved past.
func (a *Aggregator) publish(parts []*partState, now time.Time) {
	for _, ps := range parts {
		p := ps.p
		for _, w := range ps.pub {
			w.pub = false
			u := metricdoc.Update{
				Granularity: w.key.gran, WindowStart: w.start, WindowEnd: w.end, Meta: w.key.meta,
				Partition: ps.p, Totals: w.totals, Offset: ps.next,
				Final: !ps.watermark().Before(w.end) && ps.maxMs != noTime, UpdatedAt: now,
			}
			v, err := json.Marshal(&u)
			if err != nil {
				continue
			}
			a.cl.Produce(nil, &kgo.Record{Topic: a.opts.UpdatesTopic, Key: []byte(u.Key()), Value: v}, func(_ *kgo.Record, err error) {
				if err != nil {
					a.m.kafkaErrors.WithLabelValues("publish").Inc()
					a.markFailed(a.pubFailed, p)
				}
			})
		}
		ps.pub = ps.pub[:0]
	}
}

// errRoundAborted: a store round was cancelled (rebalance, shutdown).
var errRoundAborted = errors.New("store round aborted")
