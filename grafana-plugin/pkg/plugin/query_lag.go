package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/frames"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// lagTimeout bounds a whole lag query, including reading the oldest
// unconsumed records.
const lagTimeout = 10 * time.Second

func (ds *Datasource) queryLag(ctx context.Context, q request.Query) (data.Frames, error) {
	ctx, cancel := context.WithTimeout(ctx, lagTimeout)
	defer cancel()
	rows, committed, err := ds.lag(ctx, q.ConsumerGroup, q.Topic)
	if err != nil {
		return nil, err
	}
	f := frames.Lag(rows, q.Measure)
	f.Meta.ExecutedQueryString = fmt.Sprintf("consumer group %q, topic %q", q.ConsumerGroup, q.Topic)
	if !committed {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("consumer group %q has no committed offsets on %s: lag counts from the log start", q.ConsumerGroup, q.Topic)})
	}
	return data.Frames{f}, nil
}

// partLag is the position of the group in one partition.
type partLag struct {
	partition int32
	next      int64 // first unconsumed offset
	end       int64
}

// lag reads the group's committed offsets and the topic's offsets. Every
// partition of the topic is reported: one the group never committed to
// counts from the log start, so a group without members or commits still
// shows its backlog, and an idle partition shows 0.
func (ds *Datasource) lag(ctx context.Context, group, topic string) (rows []frames.LagRow, committed bool, err error) {
	starts, err := ds.admin.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, false, downstream("list start offsets", err)
	}
	ends, err := ds.admin.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, false, downstream("list end offsets", err)
	}
	if err := ends.Error(); err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return nil, false, request.Errorf("topic %q does not exist", topic)
		}
		return nil, false, downstream("list end offsets", err)
	}
	commits, err := ds.admin.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, false, downstream("fetch offsets of group "+group, err)
	}
	var parts []partLag
	ends.Each(func(e kadm.ListedOffset) {
		p := partLag{partition: e.Partition, end: e.Offset, next: -1}
		if c, ok := commits.Lookup(topic, e.Partition); ok && c.Err == nil && c.At >= 0 {
			p.next, committed = c.At, true
		}
		if s, ok := starts.Lookup(topic, e.Partition); ok && s.Err == nil && p.next < s.Offset {
			// Never committed, or the commit was deleted by retention:
			// the oldest unconsumed record is the log start.
			p.next = s.Offset
		}
		if p.next < 0 {
			p.next = 0
		}
		parts = append(parts, p)
	})
	slices.SortFunc(parts, func(a, b partLag) int { return int(a.partition - b.partition) })

	ages := ds.oldestUnconsumedAges(ctx, topic, parts)
	rows = make([]frames.LagRow, len(parts))
	for i, p := range parts {
		rows[i] = frames.LagRow{Topic: topic, Partition: p.partition, Records: max(p.end-p.next, 0)}
		if rows[i].Records == 0 {
			zero := 0.0
			rows[i].Seconds = &zero
		} else if age, ok := ages[p.partition]; ok {
			rows[i].Seconds = &age
		}
	}
	return rows, committed, nil
}

// oldestUnconsumedAges reads the record at each lagging partition's first
// unconsumed offset and returns now minus its timestamp, clamped at 0.
// Partitions whose record is not fetched before ctx ends are missing.
func (ds *Datasource) oldestUnconsumedAges(ctx context.Context, topic string, parts []partLag) map[int32]float64 {
	at := map[int32]kgo.Offset{}
	for _, p := range parts {
		if p.end > p.next {
			at[p.partition] = kgo.NewOffset().At(p.next)
		}
	}
	ages := make(map[int32]float64, len(at))
	if len(at) == 0 {
		return ages
	}
	opts := append(slices.Clip(ds.kafkaOpt),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: at}),
		kgo.FetchMaxWait(250*time.Millisecond),
		kgo.FetchMaxPartitionBytes(64<<10),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		ds.log.Warn("lag seconds: consumer", "err", err)
		return ages
	}
	defer cl.Close()
	// Records that cannot be read quickly (a stuck leader) leave the age
	// empty instead of holding the whole query.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	now := ds.now()
	for len(ages) < len(at) && ctx.Err() == nil {
		fetches := cl.PollRecords(ctx, len(at))
		fetches.EachRecord(func(r *kgo.Record) {
			if _, seen := ages[r.Partition]; !seen {
				ages[r.Partition] = max(now.Sub(r.Timestamp).Seconds(), 0)
			}
		})
	}
	return ages
}
