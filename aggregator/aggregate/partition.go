package aggregate

import (
	"fmt"
	"math"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/dedupstore"
	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// noTime marks "no event counted yet" in millisecond fields.
const noTime = math.MinInt64 / 4

// rules are the time settings every partition applies.
type rules struct {
	loc        *time.Location
	lateness   int64 // ms
	correction int64 // ms
	maxFuture  int64 // ms, 0 = unchecked
}

// freshKey is a freshness document: newest event per (app, source).
type freshKey struct{ app, source string }

type freshVal struct{ eventMs, ingestMs int64 }

// partState is everything the aggregator knows about one partition.
type partState struct {
	p     int32
	rules *rules

	next   int64 // next offset to process
	maxMs  int64 // M: newest counted event time, noTime if none
	tally  tally // outcomes before next
	saved  metricdoc.Checkpoint
	finalH time.Time // FinalizedHour
	finalD time.Time // FinalizedDay

	// Replay after assignment: records in [replayPos, replayTo) only
	// rebuild the de-dup set.
	replayPos, replayTo int64
	replayCutoffMs      int64

	windows map[windowKey]*window
	dirty   []*window // windows changed since the last store round
	pub     []*window // windows changed since the last publish
	dedup   identitySet
	// logged are the identities added since the last changelog record,
	// which will cover source offsets [logFrom, next); logBase marks an
	// owner's first record after rebuilding the set without the changelog.
	logged     []logEntry
	logFrom    int64
	logPending int64
	logBase    bool
	fresh      map[freshKey]freshVal
	spans      [2]span // hour, day

	ev event.Event // reused parse target
	// late: the last counted event corrected an hour window the watermark
	// had already passed.
	late bool
}

func newPartState(p int32, r *rules) *partState {
	return &partState{
		p: p, rules: r, maxMs: noTime,
		windows: make(map[windowKey]*window),
		dedup:   newDedup(),
		fresh:   make(map[freshKey]freshVal),
	}
}

// cutoffMs is the too-late threshold: W - correction horizon.
func (ps *partState) cutoffMs() int64 {
	if ps.maxMs == noTime {
		return noTime
	}
	return ps.maxMs - ps.rules.lateness - ps.rules.correction
}

// watermark returns W, or the zero time before the first counted event.
func (ps *partState) watermark() time.Time {
	if ps.maxMs == noTime {
		return time.Time{}
	}
	return time.UnixMilli(ps.maxMs - ps.rules.lateness).UTC()
}

// replay feeds a record below the checkpoint: it only restores the
// identities that decisions after the checkpoint must still see.
func (ps *partState) replay(value []byte, offset, recordMs int64) {
	if ps.parse(value, recordMs) != "" {
		return
	}
	if ps.ev.Time.UnixMilli() >= ps.replayCutoffMs {
		ps.remember(ps.ev.Identity(), ps.ev.Time.Unix(), offset)
	}
}

// remember adds an identity to the set and, when new, to the changelog's
// next record. The set only fails when its disk does; the state can then
// not be trusted, and the process stops so the next owner restores it.
func (ps *partState) remember(id uint64, sec, offset int64) (seen bool) {
	seen, err := ps.dedup.Add(id, sec)
	if err != nil {
		panic(fmt.Errorf("partition %d: de-duplication store failed: %w", ps.p, err))
	}
	if !seen {
		ps.logged = append(ps.logged, logEntry{id: id, hour: dedupstore.Hour(sec), offset: offset})
	}
	return seen
}

// parse reads the record into ps.ev and returns why it is invalid, if it
// is. An event time further after the record's timestamp than maxFuture is
// a bad time: one garbled future date would otherwise push the watermark
// ahead and make every later event too late.
func (ps *partState) parse(value []byte, recordMs int64) event.Reason {
	if err := event.Parse(value, &ps.ev); err != nil {
		return event.ReasonOf(err)
	}
	if ps.rules.maxFuture > 0 && ps.ev.Time.UnixMilli() > recordMs+ps.rules.maxFuture {
		return event.ReasonBadTime
	}
	return ""
}

// skipControl moves past a transaction marker: it is no event, so it has
// no outcome.
func (ps *partState) skipControl(offset int64) {
	if offset >= ps.next {
		ps.tally.skipped += offset + 1 - ps.next
		ps.next = offset + 1
		ps.tally.offset = ps.next
	}
}

// process decides the outcome of the record at offset and applies a counted
// event to its hour and day windows. recordMs is the Kafka record timestamp
// (set by ingest), the reference for rejecting events from the future.
func (ps *partState) process(value []byte, offset, recordMs int64, source string) (outcome, event.Reason) {
	// Offsets a read_committed fetch jumps over held aborted records.
	if offset > ps.next {
		ps.tally.skipped += offset - ps.next
	}
	ps.next = offset + 1
	o, reason := ps.decide(value, offset, recordMs, source)
	ps.tally.counts[o]++
	ps.tally.offset = ps.next
	return o, reason
}

func (ps *partState) decide(value []byte, offset, recordMs int64, source string) (outcome, event.Reason) {
	if reason := ps.parse(value, recordMs); reason != "" {
		return outDeadLettered, reason
	}
	ev := &ps.ev
	ms := ev.Time.UnixMilli()
	if ms < ps.cutoffMs() {
		return outTooLate, ""
	}
	if ps.remember(ev.Identity(), ev.Time.Unix(), offset) {
		return outDuplicate, ""
	}
	ps.late = ps.maxMs != noTime && ms < ps.maxMs-ps.rules.lateness
	if ms > ps.maxMs {
		ps.maxMs = ms
	}
	meta := ev.Meta()
	tot := ev.Totals()
	for i, g := range metricdoc.Granularities {
		sp := &ps.spans[i]
		sp.lookup(g, ev.Time, ms, ps.rules.loc)
		k := windowKey{gran: g, start: sp.startSec, meta: meta}
		w := ps.windows[k]
		if w == nil {
			w = &window{key: k, start: sp.start.UTC(), end: sp.end.UTC()}
			ps.windows[k] = w
		}
		if offset < w.docOffset {
			continue // already in the stored document
		}
		w.totals.Add(tot)
		if !w.dirty {
			w.dirty, w.dirtyMs = true, recordMs
			ps.dirty = append(ps.dirty, w)
		}
		if !w.pub {
			w.pub = true
			ps.pub = append(ps.pub, w)
		}
	}
	fk := freshKey{ev.AppID, source}
	f := ps.fresh[fk]
	ps.fresh[fk] = freshVal{eventMs: max(f.eventMs, ms), ingestMs: max(f.ingestMs, recordMs)}
	return outCounted, ""
}

// finalizable returns the windows of g that can no longer change.
func (ps *partState) finalizable(g metricdoc.Granularity) []*window {
	cut := ps.cutoffMs()
	if cut == noTime {
		return nil
	}
	var out []*window
	for k, w := range ps.windows {
		if k.gran == g && w.end.UnixMilli() <= cut {
			out = append(out, w)
		}
	}
	return out
}

// checkpoint is the durable position of the partition after a flush.
func (ps *partState) checkpoint(topic string, now time.Time) metricdoc.Checkpoint {
	cp := metricdoc.Checkpoint{
		Topic: topic, Partition: ps.p, Offset: ps.next, Watermark: ps.watermark(),
		FinalizedHour: ps.finalH, FinalizedDay: ps.finalD, UpdatedAt: now, TimeZone: ps.rules.loc.String(),
		Counted: ps.tally.counts[outCounted], Duplicates: ps.tally.counts[outDuplicate],
		TooLate: ps.tally.counts[outTooLate], DeadLettered: ps.tally.counts[outDeadLettered],
		Skipped: ps.tally.skipped, Lost: ps.tally.lost,
	}
	if cut := ps.cutoffMs(); cut != noTime {
		c := time.UnixMilli(cut)
		cp.FinalizedHour = metricdoc.WindowStart(metricdoc.Hour, c, ps.rules.loc).UTC()
		cp.FinalizedDay = metricdoc.WindowStart(metricdoc.Day, c, ps.rules.loc).UTC()
	}
	return cp
}

// restore sets the partition to a stored checkpoint and its live documents.
func (ps *partState) restore(cp metricdoc.Checkpoint, docs []metricdoc.Live) {
	ps.saved = cp
	ps.next = cp.Offset
	ps.finalH, ps.finalD = cp.FinalizedHour, cp.FinalizedDay
	if !cp.Watermark.IsZero() {
		ps.maxMs = cp.Watermark.UnixMilli() + ps.rules.lateness
	}
	ps.tally = tally{offset: cp.Offset, counts: [numOutcomes]int64{cp.Counted, cp.Duplicates, cp.TooLate, cp.DeadLettered}, skipped: cp.Skipped, lost: cp.Lost}
	ps.replayTo = cp.Offset
	ps.replayCutoffMs = ps.cutoffMs()
	for i := range docs {
		ps.adopt(&docs[i])
	}
}

// adopt makes a stored live document the state of its window.
func (ps *partState) adopt(d *metricdoc.Live) {
	k := windowKey{gran: d.Granularity, start: d.WindowStart.Unix(), meta: d.Meta}
	w := ps.windows[k]
	if w == nil {
		w = &window{key: k, start: d.WindowStart.UTC(), end: d.WindowEnd.UTC()}
		ps.windows[k] = w
	}
	w.totals, w.docOffset, w.final, w.dirty = d.Totals, d.Offset, d.Final, false
}

// republish marks every open window to be published again, after an
// update of the partition was lost.
func (ps *partState) republish() {
	for _, w := range ps.windows {
		if !w.pub {
			w.pub = true
			ps.pub = append(ps.pub, w)
		}
	}
}
