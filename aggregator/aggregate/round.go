package aggregate

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
)

// storeRound is one write of the owned partitions to MongoDB: copies taken
// under a.mu (newRound), written without it (writeRound), and the outcome
// applied under a.mu again (applyRound). Nothing in a round points into
// state the poll loop changes, except the window pointers applyRound uses
// after checking they are still current.
type storeRound struct {
	parts  []*roundPart
	fresh  []metricdoc.Freshness
	expire bool // also run the application-side expiry
	began  time.Time
	err    error

	done   chan struct{}
	cancel context.CancelFunc
}

// roundPart is what a round writes for one partition, in this order:
// changed windows to live_metrics, windows past the correction horizon
// appended once, then the checkpoint. Each step is safe to repeat after a
// crash, which is why a round interrupted anywhere loses nothing.
type roundPart struct {
	ps     *partState
	offset int64 // the live documents include the partition's events before it
	live   []metricdoc.Live
	wins   []*window // the windows of live, same order
	finals [2][]*window
	cp     metricdoc.Checkpoint
	saveCP bool
	cutMs  int64 // the cutoff of the checkpoint: identities older are pruned
	// partial: changed windows were left for a later round, so this round
	// neither finalizes nor checkpoints the partition.
	partial bool
	fresh   map[freshKey]freshVal

	written bool // live documents and finals are stored
	saved   bool // the checkpoint is stored
	stale   int  // live documents someone else wrote further
	staleCP bool // a checkpoint further than ours exists
}

// newRound takes what each partition must write: its changed windows (no
// longer dirty once copied) and, when it took all of them, its finalizable
// windows and its checkpoint. With limit > 0 it takes at most limit windows
// over all partitions, the most recently changed and the longest waiting
// half and half. Called with a.mu held.
func (a *Aggregator) newRound(parts []*partState, limit int) *storeRound {
	now := a.opts.Now().UTC()
	r := &storeRound{began: time.Now(), done: make(chan struct{})}
	merged := make(map[freshKey]freshVal)
	taken := roundShare(parts, limit)
	for _, ps := range parts {
		rp := &roundPart{ps: ps, offset: ps.next, cutMs: ps.cutoffMs(), fresh: ps.fresh}
		ps.fresh = make(map[freshKey]freshVal)
		for k, v := range rp.fresh {
			m := merged[k]
			merged[k] = freshVal{eventMs: max(m.eventMs, v.eventMs), ingestMs: max(m.ingestMs, v.ingestMs)}
		}
		r.parts = append(r.parts, rp)
		left := ps.dirty[:0]
		for _, w := range ps.dirty {
			switch {
			case !w.dirty:
			case taken == nil || taken[w]:
				w.dirty = false
				rp.live = append(rp.live, w.live(ps.p, ps.next, now))
				rp.wins = append(rp.wins, w)
			default:
				left = append(left, w)
			}
		}
		clear(ps.dirty[len(left):])
		ps.dirty = left
		if len(left) > 0 {
			rp.partial = true
			continue // finals and checkpoint wait for a round that takes all
		}
		for i, g := range metricdoc.Granularities {
			rp.finals[i] = ps.finalizable(g)
		}
		rp.cp = ps.checkpoint(a.opts.Topic, now)
		rp.saveCP = rp.cp.Offset != ps.saved.Offset || !rp.cp.FinalizedHour.Equal(ps.saved.FinalizedHour) ||
			!rp.cp.FinalizedDay.Equal(ps.saved.FinalizedDay)
	}
	for k, v := range merged {
		r.fresh = append(r.fresh, metricdoc.Freshness{
			ID: k.app + "|" + k.source, AppID: k.app, Source: k.source,
			LastEventAt: time.UnixMilli(v.eventMs).UTC(), LastIngest: time.UnixMilli(v.ingestMs).UTC(), UpdatedAt: now,
		})
	}
	return r
}

// empty reports whether the round has nothing to write.
func (r *storeRound) empty() bool {
	if r.expire || len(r.fresh) > 0 {
		return false
	}
	for _, rp := range r.parts {
		if len(rp.live) > 0 || rp.partial || len(rp.finals[0]) > 0 || len(rp.finals[1]) > 0 || rp.saveCP {
			return false
		}
	}
	return true
}

// startRound starts a round of parts in the background and reports
// whether there was anything to write. Called with a.mu held and no round
// in flight.
func (a *Aggregator) startRound(parts []*partState, limit int) bool {
	r := a.newRound(parts, limit)
	if now := a.opts.Now(); !now.Before(a.nextExpiry) {
		r.expire = true
		a.nextExpiry = now.Add(a.opts.ExpiryInterval)
	}
	if r.empty() {
		return false
	}
	// Not tied to Run's context: a graceful stop lets the round finish
	// (shutdown waits for it); a crash or the end of Run cancels it.
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	a.round = r
	go func() {
		defer close(r.done)
		defer cancel()
		a.writeRound(ctx, r)
	}()
	return true
}

// collectRound applies the round in flight if it has finished.
func (a *Aggregator) collectRound(ctx context.Context, pc *pacing) {
	r := a.round
	if r == nil {
		return
	}
	select {
	case <-r.done:
	default:
		return
	}
	a.settle(ctx, pc, r)
}

// awaitRound waits for the round in flight, then applies it.
func (a *Aggregator) awaitRound(ctx context.Context, pc *pacing) {
	r := a.round
	if r == nil {
		return
	}
	a.finishRound(ctx, r)
	a.settle(ctx, pc, r)
}

func (a *Aggregator) settle(ctx context.Context, pc *pacing, r *storeRound) {
	if err := a.applyRound(ctx, r, true); err != nil {
		if ctx.Err() == nil && !errors.Is(err, errRoundAborted) {
			a.failed(pc, err)
		}
		return
	}
	a.succeeded(pc)
}

// finishRound waits for r until ctx ends, then cancels it and waits for
// its goroutine to return.
func (a *Aggregator) finishRound(ctx context.Context, r *storeRound) {
	select {
	case <-r.done:
	case <-ctx.Done():
		r.cancel()
		<-r.done
	}
}

// cancelRound stops the round in flight without applying it: the process
// is going away (crash, or the end of Run).
func (a *Aggregator) cancelRound() {
	if r := a.round; r != nil {
		r.cancel()
		<-r.done
	}
}

// writeRound writes r partition by partition, so each one makes progress
// even when a crash interrupts a long round; it stops at the first error.
// It touches no aggregator state: only the round.
func (a *Aggregator) writeRound(ctx context.Context, r *storeRound) {
	if a.beforeRound != nil {
		a.beforeRound(r)
	}
	for _, rp := range r.parts {
		if err := a.writePart(ctx, rp); err != nil {
			r.err = err
			break
		}
	}
	if a.crashed.Load() {
		return
	}
	if len(r.fresh) > 0 && ctx.Err() == nil {
		if err := a.store.UpsertFreshness(ctx, r.fresh); err != nil {
			a.log.Warn("freshness write failed", "err", err)
		}
	}
	if r.expire && r.err == nil && ctx.Err() == nil {
		a.expire(ctx)
	}
	if r.err == nil && ctx.Err() != nil {
		r.err = errRoundAborted
	}
}

func (a *Aggregator) writePart(ctx context.Context, rp *roundPart) error {
	if a.crashed.Load() {
		return errRoundAborted
	}
	if len(rp.live) > 0 {
		stale, err := a.store.WriteLive(ctx, rp.live)
		if err != nil {
			return err
		}
		if len(stale) > 0 {
			// Someone included more of the partition: the state here is
			// behind, and the partition is reloaded from MongoDB.
			rp.stale = len(stale)
			return nil
		}
		if a.afterLiveWrite != nil {
			a.afterLiveWrite()
		}
		if a.crashed.Load() {
			return errRoundAborted
		}
	}
	for i, g := range metricdoc.Granularities {
		wins := rp.finals[i]
		if len(wins) == 0 {
			continue
		}
		docs := make([]metricdoc.Final, len(wins))
		for j, w := range wins {
			docs[j] = metricdoc.Final{WindowStart: w.start, Meta: w.key.meta, Partition: rp.ps.p, Totals: w.totals}
		}
		if err := a.store.Finalize(ctx, g, docs); err != nil {
			return err
		}
	}
	rp.written = true
	if !rp.saveCP {
		return nil
	}
	err := a.store.SaveCheckpoint(ctx, rp.cp)
	if errors.Is(err, metricstore.ErrStaleCheckpoint) {
		rp.staleCP = true
		return nil
	}
	if err != nil {
		return err
	}
	rp.saved = true
	return nil
}

// applyRound makes the round's outcome the partitions' state: written
// windows carry their stored offset, finalized ones leave memory, a saved
// checkpoint becomes the partition's and lets the de-duplication set drop
// what it no longer needs. What was not written is marked changed again for
// the next round; a partition someone else got further on is reloaded.
// A partition dropped or reloaded meanwhile is skipped. Called with a.mu held.
func (a *Aggregator) applyRound(ctx context.Context, r *storeRound, inLoop bool) error {
	if a.round == r {
		a.round = nil
	}
	commits := make(map[int32]kgo.EpochOffset)
	newest := make(map[string]int64)
	for _, rp := range r.parts {
		ps := rp.ps
		if a.parts[ps.p] != ps {
			continue
		}
		if rp.stale > 0 || rp.staleCP {
			what := "live_window"
			if rp.staleCP {
				what = "checkpoint"
			}
			a.m.conflicts.WithLabelValues(what).Add(float64(max(rp.stale, 1)))
			if err := a.reload(ctx, ps.p, inLoop, "another consumer got further"); err != nil {
				return err
			}
			continue
		}
		if !rp.written {
			rp.retry()
			continue
		}
		for _, w := range rp.wins {
			w.docOffset = max(w.docOffset, rp.offset)
		}
		for i, g := range metricdoc.Granularities {
			for _, w := range rp.finals[i] {
				if ps.windows[w.key] == w {
					delete(ps.windows, w.key)
				}
			}
			if n := len(rp.finals[i]); n > 0 {
				a.m.finalized.WithLabelValues(string(g)).Add(float64(n))
			}
		}
		for k, v := range rp.fresh {
			newest[k.source] = max(newest[k.source], v.ingestMs)
		}
		if !rp.saved {
			continue
		}
		ps.saved, ps.finalH, ps.finalD = rp.cp, rp.cp.FinalizedHour, rp.cp.FinalizedDay
		commits[ps.p] = kgo.EpochOffset{Epoch: -1, Offset: rp.cp.Offset}
		if rp.cutMs != noTime {
			if err := ps.dedup.Prune(time.UnixMilli(rp.cutMs).Unix()); err != nil {
				return err
			}
		}
		a.publishPartition(ps)
	}
	a.m.observeVisible(newest, a.opts.Now().UnixMilli())
	a.commit(commits)
	a.m.flush.Observe(time.Since(r.began).Seconds())
	if a.log.Enabled(ctx, slog.LevelDebug) {
		docs, partial, finals, cps := 0, 0, 0, 0
		for _, rp := range r.parts {
			docs += len(rp.live)
			finals += len(rp.finals[0]) + len(rp.finals[1])
			if rp.partial {
				partial++
			}
			if rp.saved {
				cps++
			}
		}
		a.log.Debug("store round applied", "live_documents", docs, "finals", finals, "checkpoints", cps,
			"partitions_left_behind", partial, "took", time.Since(r.began), "err", r.err)
	}
	return r.err
}

// retry marks the windows of a part that was not written as changed again
// and gives its freshness back, for the next round.
func (rp *roundPart) retry() {
	ps := rp.ps
	for _, w := range rp.wins {
		if ps.windows[w.key] == w && !w.dirty {
			w.dirty = true
			ps.dirty = append(ps.dirty, w)
		}
	}
	for k, v := range rp.fresh {
		m := ps.fresh[k]
		ps.fresh[k] = freshVal{eventMs: max(m.eventMs, v.eventMs), ingestMs: max(m.ingestMs, v.ingestMs)}
	}
}

// roundShare picks the windows a round of the given limit writes: nil
// (all) when no more than limit are changed, else the limit/2 most recently
// changed and the rest of the limit from the longest waiting. The recent
// half keeps the windows of a steady stream visible within a round or two
// while a burst drains; the waiting half makes sure every window, and so
// every checkpoint, is reached.
func roundShare(parts []*partState, limit int) map[*window]bool {
	n := 0
	for _, ps := range parts {
		n += len(ps.dirty)
	}
	if limit <= 0 || n <= limit {
		return nil
	}
	all := make([]*window, 0, n)
	for _, ps := range parts {
		for _, w := range ps.dirty {
			if w.dirty {
				all = append(all, w)
			}
		}
	}
	if len(all) <= limit {
		return nil
	}
	slices.SortFunc(all, func(x, y *window) int { return cmp.Compare(x.dirtyMs, y.dirtyMs) })
	recent := limit / 2
	taken := make(map[*window]bool, limit)
	for _, w := range all[:limit-recent] {
		taken[w] = true
	}
	for _, w := range all[len(all)-recent:] {
		taken[w] = true
	}
	return taken
}
