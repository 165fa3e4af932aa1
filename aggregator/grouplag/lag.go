// Package grouplag measures how far a Kafka consumer group is behind on a
// topic, per partition, in records and in seconds (the age of the oldest
// record it has not consumed). The plugin's lag query and `campaignpulse
// status` both use it, so the dashboard, the alert rules and the operator's
// console report the same numbers.
package grouplag

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUnknownTopic is returned when the topic does not exist.
var ErrUnknownTopic = errors.New("topic does not exist")

// Partition is the group's position in one partition.
type Partition struct {
	Partition int32
	// Next is the first offset the group has not consumed, End the
	// partition's end offset; Records = End - Next.
	Next, End, Records int64
	// Seconds is the age of the record at Next (0 without lag); nil when it
	// could not be read in time.
	Seconds *float64
}

// Result is the lag of a group on a topic.
type Result struct {
	Partitions []Partition
	// Committed is false when the group has no committed offset on the
	// topic at all: every partition then counts from the log start.
	Committed bool
}

// Options of Read.
type Options struct {
	// ConsumerOpts configure the short-lived consumer that reads the oldest
	// unconsumed records (seed brokers, TLS, SASL).
	ConsumerOpts []kgo.Opt
	// AgeTimeout bounds reading those records; partitions not read by then
	// have no Seconds. Default 3 s.
	AgeTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Read reports every partition of topic. One the group never committed to
// counts from the log start, so a group without members or commits still
// shows its backlog, and an idle partition shows 0.
func Read(ctx context.Context, adm *kadm.Client, group, topic string, o Options) (Result, error) {
	if o.AgeTimeout <= 0 {
		o.AgeTimeout = 3 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return Result{}, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return Result{}, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return Result{}, fmt.Errorf("%q: %w", topic, ErrUnknownTopic)
		}
		return Result{}, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	commits, err := adm.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return Result{}, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	var res Result
	ends.Each(func(e kadm.ListedOffset) {
		p := Partition{Partition: e.Partition, End: e.Offset, Next: -1}
		if c, ok := commits.Lookup(topic, e.Partition); ok && c.Err == nil && c.At >= 0 {
			p.Next, res.Committed = c.At, true
		}
		if s, ok := starts.Lookup(topic, e.Partition); ok && s.Err == nil && p.Next < s.Offset {
			// Never committed, or the commit was deleted by retention:
			// the oldest unconsumed record is the log start.
			p.Next = s.Offset
		}
		p.Next = max(p.Next, 0)
		p.Records = max(p.End-p.Next, 0)
		res.Partitions = append(res.Partitions, p)
	})
	slices.SortFunc(res.Partitions, func(a, b Partition) int { return int(a.Partition - b.Partition) })

	ages := oldestUnconsumedAges(ctx, topic, res.Partitions, o)
	for i := range res.Partitions {
		p := &res.Partitions[i]
		if p.Records == 0 {
			zero := 0.0
			p.Seconds = &zero
		} else if age, ok := ages[p.Partition]; ok {
			p.Seconds = &age
		}
	}
	return res, nil
}

// oldestUnconsumedAges reads the record at each lagging partition's first
// unconsumed offset and returns now minus its timestamp, clamped at 0.
// Records that cannot be read quickly (a stuck leader) leave the age empty
// instead of holding the caller.
func oldestUnconsumedAges(ctx context.Context, topic string, parts []Partition, o Options) map[int32]float64 {
	at := map[int32]kgo.Offset{}
	for _, p := range parts {
		if p.Records > 0 {
			at[p.Partition] = kgo.NewOffset().At(p.Next)
		}
	}
	ages := make(map[int32]float64, len(at))
	if len(at) == 0 {
		return ages
	}
	opts := append(slices.Clip(o.ConsumerOpts),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: at}),
		kgo.FetchMaxWait(250*time.Millisecond),
		kgo.FetchMaxPartitionBytes(64<<10),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return ages
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, o.AgeTimeout)
	defer cancel()
	now := o.Now()
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
