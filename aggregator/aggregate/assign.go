package aggregate

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// assigned runs after the group assigned partitions and before fetching
// starts: it rebuilds each partition from MongoDB and starts it at the
// offset its de-dup replay needs. MongoDB trouble is retried here, since
// consuming without the checkpoint would double count.
func (a *Aggregator) assigned(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	if a.crashed.Load() {
		return offsets, nil
	}
	for p := range offsets[a.opts.Topic] {
		backoff := newBackoff()
		for {
			ps, start, err := a.recover(ctx, p)
			if err == nil {
				a.mu.Lock()
				a.install(ps)
				a.mu.Unlock()
				offsets[a.opts.Topic][p] = kgo.NewOffset().At(start).WithEpoch(-1)
				a.log.Info("partition assigned", "partition", p, "offset", ps.next, "replay_from", start,
					"watermark", ps.watermark(), "windows", len(ps.windows))
				break
			}
			a.log.Warn("loading partition state failed; retrying", "partition", p, "err", err)
			d, _ := backoff.Next()
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("load partition %d: %w", p, ctx.Err())
			case <-time.After(d):
			}
		}
	}
	return offsets, nil
}

// recover loads a partition's checkpoint and live windows, restores its
// de-duplication set from the changelog, and returns the offset to fetch
// from: the checkpoint, or earlier when the set must be rebuilt by
// replaying raw_events (no usable changelog). Records the retention deleted
// before they were processed are accounted as lost, loudly.
func (a *Aggregator) recover(ctx context.Context, p int32) (*partState, int64, error) {
	cp, found, err := a.store.LoadCheckpoint(ctx, a.opts.Topic, p)
	if err != nil {
		return nil, 0, err
	}
	ps := newPartState(p, a.rules)
	if !found {
		cp = metricdoc.Checkpoint{Topic: a.opts.Topic, Partition: p}
	}
	ps.restore(cp, nil)
	var endAfter time.Time
	if c := ps.cutoffMs(); c != noTime {
		endAfter = time.UnixMilli(c)
	}
	docs, err := a.store.LoadLive(ctx, p, endAfter)
	if err != nil {
		return nil, 0, err
	}
	ps.restore(cp, docs)
	logStart, err := a.rawLogStart(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	if logStart > ps.next {
		a.accountLost(ps, logStart, found)
	}
	if err := a.freshSet(ps); err != nil {
		return nil, 0, err
	}
	start := ps.next
	ps.logFrom, ps.logBase = ps.next, true
	if ps.replayCutoffMs != noTime && cp.Offset > 0 {
		restored, err := a.restoreChangelog(ctx, ps, cp.Offset)
		if err != nil {
			a.dropSet(ps)
			return nil, 0, err
		}
		if restored {
			ps.logBase = false
		} else {
			off, err := a.replayStart(ctx, p, ps.replayCutoffMs)
			if err != nil {
				a.dropSet(ps)
				return nil, 0, err
			}
			if off >= 0 {
				start = max(min(off, cp.Offset), logStart)
			}
			ps.logFrom = start
		}
	}
	ps.replayPos = start
	return ps, start, nil
}

// accountLost moves a partition past records the retention deleted before
// they were processed: counted as lost in the checkpoint, a metric and an
// error log, never silently skipped.
func (a *Aggregator) accountLost(ps *partState, logStart int64, found bool) {
	n := logStart - ps.next
	if found {
		a.m.gaps.WithLabelValues(a.opts.Topic).Inc()
		a.m.lostRecords.Add(float64(n))
		a.log.Error("raw_events records were deleted by retention before they were processed; they are lost (accounted in the checkpoint)",
			"partition", ps.p, "checkpoint", ps.next, "log_start", logStart, "lost_records", n, "err", errStateGap)
	} else {
		a.log.Warn("first start on this partition: raw_events begins after offset 0; earlier records were deleted before this deployment",
			"partition", ps.p, "log_start", logStart)
	}
	ps.tally.lost += n
	ps.next, ps.tally.offset = logStart, logStart
}

// rawLogStart is the first offset raw_events still holds for p.
func (a *Aggregator) rawLogStart(ctx context.Context, p int32) (int64, error) {
	listed, err := a.adm.ListStartOffsets(ctx, a.opts.Topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("list start offsets of %s: %w", a.opts.Topic, err)
	}
	o, ok := listed.Lookup(a.opts.Topic, p)
	if !ok {
		return 0, fmt.Errorf("list start offsets of %s: partition %d not listed", a.opts.Topic, p)
	}
	return o.Offset, nil
}

// freshSet gives ps an empty de-duplication set in the local store.
func (a *Aggregator) freshSet(ps *partState) error {
	if ps.dedup != nil {
		_ = ps.dedup.Close()
	}
	ps.dedup = a.state.NewSet()
	return nil
}

// dropSet releases a set that will not be installed.
func (a *Aggregator) dropSet(ps *partState) {
	if ps.dedup != nil {
		_ = ps.dedup.Close()
	}
}

// install makes ps the state of its partition and brings this process's
// share of events_total up to the checkpoint.
func (a *Aggregator) install(ps *partState) {
	if old := a.parts[ps.p]; old != nil && old != ps {
		_ = old.dedup.Close()
	}
	a.parts[ps.p] = ps
	c := a.contrib[ps.p]
	if c == nil {
		c = &tally{}
		a.contrib[ps.p] = c
	}
	if ps.tally.offset > c.offset {
		for o := outcome(0); o < numOutcomes; o++ {
			a.m.events[o].Add(float64(ps.tally.counts[o] - c.counts[o]))
		}
		*c = ps.tally
	}
	a.publishPartition(ps)
}

// resync reloads a partition after another consumer got further (or a
// dead-letter record was lost) and seeks back to where its replay starts.
// Called from the poll loop with a.mu held.
func (a *Aggregator) resync(ctx context.Context, p int32) error {
	ps, start, err := a.recover(ctx, p)
	if err != nil {
		return err
	}
	a.install(ps)
	a.resynced[p] = true
	a.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{a.opts.Topic: {p: {Epoch: -1, Offset: start}}})
	a.log.Warn("partition state reloaded from mongodb", "partition", p, "offset", ps.next, "replay_from", start)
	return nil
}

// revoked flushes the partitions the group takes away, then forgets them.
func (a *Aggregator) revoked(ctx context.Context, _ *kgo.Client, lost map[string][]int32) {
	if a.crashed.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.stopping.Load() {
		// Finish well within the session, or the group moves on without us.
		ctx, cancel := context.WithTimeout(ctx, min(10*time.Second, a.opts.SessionTimeout/2))
		err := a.flushOnly(ctx, lost[a.opts.Topic])
		cancel()
		if err != nil {
			a.log.Warn("flush on revoke failed; the next owner resumes from the last checkpoint", "err", err)
		}
	}
	a.drop(lost[a.opts.Topic])
}

// lost forgets partitions without writing: another member may own them.
func (a *Aggregator) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	if a.crashed.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.drop(lost[a.opts.Topic])
}

func (a *Aggregator) drop(ps []int32) {
	for _, p := range ps {
		if s := a.parts[p]; s != nil {
			if err := s.dedup.Close(); err != nil {
				a.log.Warn("dropping a partition's de-duplication identities failed", "partition", p, "err", err)
			}
		}
		delete(a.parts, p)
		a.m.forget(p)
		a.log.Info("partition released", "partition", p)
	}
	a.ready.Store(len(a.parts) > 0)
}

// publishPartition refreshes the per-partition gauges: checkpointed
// outcome counts, watermark and its delay behind the wall clock.
func (a *Aggregator) publishPartition(ps *partState) {
	l := strconv.Itoa(int(ps.p))
	for o := outcome(0); o < numOutcomes; o++ {
		a.m.partEvents.WithLabelValues(l, o.String()).Set(float64(savedCount(ps.saved, o)))
	}
	if w := ps.watermark(); !w.IsZero() {
		a.m.watermark.WithLabelValues(l).Set(float64(w.Unix()))
		a.m.delay.WithLabelValues(l).Set(a.opts.Now().Sub(w).Seconds())
	}
}

// replayStart is the first offset that may hold an event at or after
// cutoffMs: such a record was written at most MaxFuture before the event
// time. Without that bound it is the start of the partition. -1 means no
// such record exists.
func (a *Aggregator) replayStart(ctx context.Context, p int32, cutoffMs int64) (int64, error) {
	var (
		listed kadm.ListedOffsets
		err    error
	)
	if a.rules.maxFuture > 0 {
		listed, err = a.adm.ListOffsetsAfterMilli(ctx, cutoffMs-a.rules.maxFuture, a.opts.Topic)
	} else {
		listed, err = a.adm.ListStartOffsets(ctx, a.opts.Topic)
	}
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("find replay start of partition %d: %w", p, err)
	}
	o, ok := listed.Lookup(a.opts.Topic, p)
	if !ok {
		return 0, fmt.Errorf("find replay start of partition %d: not listed", p)
	}
	return o.Offset, nil
}

func savedCount(cp metricdoc.Checkpoint, o outcome) int64 {
	return [numOutcomes]int64{cp.Counted, cp.Duplicates, cp.TooLate, cp.DeadLettered}[o]
}
