package aggregate

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
)

// The de-duplication set is restorable from the changelog topic, partition
// for partition of raw_events: each flush appends the identities the
// partition added since the previous flush, each tagged with the offset of
// its source record and its event hour, in records covering a source
// offset range [from, to). A new owner reads the changelog partition and
// keeps the identities of source offsets below its checkpoint whose hour
// the correction horizon still needs: about 11 bytes per identity instead
// of the ~1 KB raw record a replay of raw_events reads.

// logEntry is one identity added to the set.
type logEntry struct {
	id     uint64
	hour   int64
	offset int64
}

const (
	changelogVersion = 1
	// changelogChunk bounds one changelog record (~12 B per entry) below
	// Kafka's default 1 MiB message size.
	changelogChunk = 60_000
)

// encodeChangelog packs entries of source offsets [from, to). base marks
// the first record of an owner that rebuilt the set without the changelog:
// identities of source offsets below from were not needed then, so they
// never will be.
func encodeChangelog(from, to int64, base bool, es []logEntry) []byte {
	b := make([]byte, 0, 32+len(es)*12)
	flags := byte(0)
	if base {
		flags = 1
	}
	b = append(b, changelogVersion, flags)
	b = binary.AppendUvarint(b, uint64(from))
	b = binary.AppendUvarint(b, uint64(to-from))
	baseHour := int64(0)
	if len(es) > 0 {
		baseHour = es[0].hour
	}
	b = binary.AppendVarint(b, baseHour)
	b = binary.AppendUvarint(b, uint64(len(es)))
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(e.offset-from))
		b = binary.AppendVarint(b, e.hour-baseHour)
		b = binary.LittleEndian.AppendUint64(b, e.id)
	}
	return b
}

// changelogRecord is a decoded changelog record.
type changelogRecord struct {
	from, to int64
	base     bool
	entries  []logEntry
}

func decodeChangelog(b []byte, into []logEntry) (changelogRecord, error) {
	bad := func(what string) (changelogRecord, error) {
		return changelogRecord{}, fmt.Errorf("decode changelog record: bad %s", what)
	}
	if len(b) < 2 || b[0] != changelogVersion {
		return bad("version")
	}
	var r changelogRecord
	r.base = b[1]&1 != 0
	b = b[2:]
	from, n := binary.Uvarint(b)
	if n <= 0 {
		return bad("from")
	}
	b = b[n:]
	span, n := binary.Uvarint(b)
	if n <= 0 {
		return bad("to")
	}
	b = b[n:]
	baseHour, n := binary.Varint(b)
	if n <= 0 {
		return bad("hour")
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return bad("count")
	}
	b = b[n:]
	r.from, r.to = int64(from), int64(from+span)
	r.entries = into[:0]
	for range count {
		off, n := binary.Uvarint(b)
		if n <= 0 {
			return bad("offset")
		}
		b = b[n:]
		dh, n := binary.Varint(b)
		if n <= 0 || len(b) < n+8 {
			return bad("entry")
		}
		b = b[n:]
		r.entries = append(r.entries, logEntry{id: binary.LittleEndian.Uint64(b), hour: baseHour + dh, offset: r.from + int64(off)})
		b = b[8:]
	}
	return r, nil
}

// produceChangelog appends what each partition added since its last flush.
// Failures are collected per partition; the flush then reloads the
// partition instead of checkpointing state the changelog lacks.
func (a *Aggregator) produceChangelog(parts []*partState) {
	for _, ps := range parts {
		// A record per advanced partition, with or without identities, so
		// the records' source ranges join up to every checkpoint.
		if ps.next <= ps.logFrom && len(ps.logged) == 0 {
			continue
		}
		from, to := ps.logFrom, ps.next
		for i := 0; i == 0 || i < len(ps.logged); i += changelogChunk {
			chunk := ps.logged[i:min(i+changelogChunk, len(ps.logged))]
			cf, ct := from, to
			if len(ps.logged) > changelogChunk { // chunks split the range at their first offsets
				if i > 0 {
					cf = chunk[0].offset
				}
				if i+changelogChunk < len(ps.logged) {
					ct = ps.logged[i+changelogChunk].offset
				}
			}
			p := ps.p
			base := ps.logBase && i == 0
			a.logCl.Produce(nil, &kgo.Record{Topic: a.opts.ChangelogTopic, Partition: p, Value: encodeChangelog(cf, ct, base, chunk)},
				func(_ *kgo.Record, err error) {
					if err != nil {
						a.m.kafkaErrors.WithLabelValues("changelog").Inc()
						a.markFailed(a.logFailed, p)
					}
				})
		}
		ps.logPending = to
	}
}

// changelogAcked clears what was produced once Kafka acknowledged it.
func changelogAcked(ps *partState) {
	if ps.logPending > ps.logFrom {
		ps.logged = ps.logged[:0]
		ps.logFrom, ps.logBase = ps.logPending, false
	}
}

var (
	// errStateGap: a topic the state needs lost records before they were used.
	errStateGap = errors.New("state gap")
	// errRetention: a topic keeps records for less time than recovery needs.
	errRetention = errors.New("retention too short for recovery")
)

// restoreChangelog fills ps's set from the changelog up to the checkpoint.
// It returns false (and restores nothing) when the changelog cannot prove
// it holds every identity the horizon needs: a partition checkpointed
// before the changelog existed, or one whose needed records the
// changelog's retention deleted (a gap, also counted and logged).
func (a *Aggregator) restoreChangelog(ctx context.Context, ps *partState, cpOffset int64) (bool, error) {
	began := time.Now()
	topic, p := a.opts.ChangelogTopic, ps.p
	starts, err := a.adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return false, fmt.Errorf("list changelog start offsets: %w", err)
	}
	ends, err := a.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return false, fmt.Errorf("list changelog end offsets: %w", err)
	}
	so, ok1 := starts.Lookup(topic, p)
	eo, ok2 := ends.Lookup(topic, p)
	if !ok1 || !ok2 {
		return false, fmt.Errorf("changelog %s has no partition %d: it needs as many partitions as %s", topic, p, a.opts.Topic)
	}
	if eo.Offset <= so.Offset {
		if so.Offset > 0 {
			a.changelogGap(p, so.Offset, "the retention deleted every record")
		}
		return false, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.opts.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().At(so.Offset)}}),
		kgo.FetchMaxBytes(16<<20), kgo.FetchMaxPartitionBytes(16<<20))
	if err != nil {
		return false, fmt.Errorf("changelog reader: %w", err)
	}
	defer cl.Close()

	cutoffSec := time.UnixMilli(ps.replayCutoffMs).Unix()
	var (
		spans      [][2]int64
		firstBase  bool
		firstTS    time.Time
		bytes      int64
		restored   int
		entriesBuf []logEntry
		next       = so.Offset
	)
	for next < eo.Offset {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("read changelog partition %d: %w", p, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return false, fmt.Errorf("read changelog partition %d: %w", p, ferr)
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			next = r.Offset + 1
			bytes += int64(len(r.Value) + len(r.Key))
			if firstTS.IsZero() {
				firstTS = r.Timestamp
			}
			rec, err := decodeChangelog(r.Value, entriesBuf)
			if err != nil {
				return false, fmt.Errorf("changelog partition %d offset %d: %w", p, r.Offset, err)
			}
			entriesBuf = rec.entries
			if rec.from >= cpOffset {
				continue
			}
			if len(spans) == 0 {
				firstBase = rec.base
			}
			spans = append(spans, [2]int64{rec.from, rec.to})
			n, err := restoreEntries(ps.dedup, rec.entries, cpOffset, cutoffSec)
			if err != nil {
				return false, err
			}
			restored += n
		}
	}
	a.m.restoreBytes.WithLabelValues("changelog").Add(float64(bytes))
	covered, why := covers(spans, cpOffset)
	// Records before the first one read may hold needed identities unless
	// they predate anything the horizon needs.
	needFrom := time.UnixMilli(ps.replayCutoffMs - a.rules.maxFuture)
	older := a.rules.maxFuture > 0 && !firstTS.After(needFrom)
	if covered && spans[0][0] > 0 && !firstBase && !older {
		covered, why = false, fmt.Sprintf("its oldest record (%s, source offset %d) is newer than the horizon needs (%s)",
			firstTS.UTC().Format(time.RFC3339), spans[0][0], needFrom.UTC().Format(time.RFC3339))
	}
	if !covered {
		if so.Offset > 0 {
			a.changelogGap(p, so.Offset, why)
		} else {
			a.log.Info("changelog does not cover the partition yet; restoring from raw_events", "partition", p, "reason", why)
		}
		return false, a.freshSet(ps)
	}
	a.m.restoreSeconds.Observe(time.Since(began).Seconds())
	a.log.Info("de-duplication state restored from the changelog", "partition", p, "identities", restored,
		"bytes", bytes, "records", eo.Offset-so.Offset, "took", time.Since(began).Round(time.Millisecond))
	return true, nil
}

// changelogGap reports a changelog that lost records a restore needs.
func (a *Aggregator) changelogGap(p int32, start int64, why string) {
	a.m.gaps.WithLabelValues(a.opts.ChangelogTopic).Inc()
	a.log.Error("de-duplication changelog lost records its restore needs (its retention passed while the partition was not processed); falling back to replaying raw_events, where copies of events from the lost range can be counted twice",
		"partition", p, "changelog", a.opts.ChangelogTopic, "changelog_start", start, "reason", why, "err", errStateGap)
}

// restoreEntries adds the entries a restore at checkpoint cpOffset keeps:
// processed before the checkpoint, in an hour the horizon still needs.
func restoreEntries(set identitySet, es []logEntry, cpOffset, cutoffSec int64) (int, error) {
	n := 0
	for _, e := range es {
		if e.offset < cpOffset && (e.hour+1)*3600 > cutoffSec {
			if _, err := set.Add(e.id, e.hour*3600); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// covers reports whether the source offset ranges join into one covering
// [first range's start, upTo).
func covers(spans [][2]int64, upTo int64) (bool, string) {
	if len(spans) == 0 {
		return false, "no record before the checkpoint"
	}
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	reach := s[0][1]
	for _, sp := range s[1:] {
		if sp[0] > reach {
			return false, "source offsets " + strconv.FormatInt(reach, 10) + ".." + strconv.FormatInt(sp[0], 10) + " are missing"
		}
		reach = max(reach, sp[1])
	}
	if reach < upTo {
		return false, "records end at source offset " + strconv.FormatInt(reach, 10) + ", before the checkpoint " + strconv.FormatInt(upTo, 10)
	}
	return true, ""
}

// checkRetention makes sure the changelog keeps records longer than the
// horizon the restore reads back, and reports how long an aggregator may
// stay down before a restart finds a gap.
func (a *Aggregator) checkRetention(ctx context.Context) error {
	cfgs, err := a.adm.DescribeTopicConfigs(ctx, a.opts.ChangelogTopic, a.opts.Topic)
	if err != nil {
		return fmt.Errorf("describe %s and %s: %w", a.opts.ChangelogTopic, a.opts.Topic, err)
	}
	need := time.Duration(a.rules.lateness+a.rules.correction+a.rules.maxFuture)*time.Millisecond + time.Hour
	ret := map[string]time.Duration{}
	for _, rc := range cfgs {
		if rc.Err != nil {
			return fmt.Errorf("describe topic %s: %w", rc.Name, rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" && c.Value != nil {
				ms, err := strconv.ParseInt(*c.Value, 10, 64)
				if err == nil {
					ret[rc.Name] = time.Duration(ms) * time.Millisecond
					if ms < 0 {
						ret[rc.Name] = time.Duration(1<<63 - 1)
					}
				}
			}
		}
	}
	cr, ok := ret[a.opts.ChangelogTopic]
	if ok && cr < need {
		return fmt.Errorf("topic %s: retention.ms %d is below the %s the de-duplication restore reads back (aggregate.lateness + aggregate.correction-horizon + aggregate.max-future + 1h); raise it: %w",
			a.opts.ChangelogTopic, cr.Milliseconds(), need, errRetention)
	}
	a.log.Info("state topics checked", "changelog", a.opts.ChangelogTopic, "changelog_retention", cr,
		"raw_retention", ret[a.opts.Topic], "needed", need,
		"tolerated_downtime", min(ret[a.opts.Topic], cr-need))
	return nil
}

// ensureChangelog creates the changelog topic when it is missing, with as
// many partitions as raw_events (partition p restores partition p).
func (a *Aggregator) ensureChangelog(ctx context.Context) error {
	td, err := a.adm.ListTopics(ctx, a.opts.Topic)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	raw, ok := td[a.opts.Topic]
	if !ok || raw.Err != nil {
		return fmt.Errorf("topic %s is missing; create the topics first (campaignpulse topics)", a.opts.Topic)
	}
	spec := publish.ChangelogSpec(a.opts.ChangelogTopic, int32(len(raw.Partitions)), a.opts.ChangelogRetention)
	return publish.EnsureTopic(ctx, a.adm, spec, -1, a.log)
}
