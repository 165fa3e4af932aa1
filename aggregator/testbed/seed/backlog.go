package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Backlog describes raw_events as a consumer group without members left
// it: the records of each partition and the offsets the group committed.
type Backlog struct {
	// Now is the world's clock.
	Now time.Time
	// Group is the consumer group whose offsets are committed.
	Group string
	// Records is how many records each partition holds; its length is the
	// number of partitions of raw_events (and of aggregated_metrics).
	Records []int
	// Committed is the group's next offset per partition; a partition
	// missing here was never committed, so its lag counts from the log start.
	Committed map[int32]int64
	// Oldest is the age of each partition's first record at Now; the next
	// ones follow Spacing apart.
	Oldest, Spacing time.Duration
}

// Lag is what the group's lag must read on the seeded backlog.
type Lag struct {
	// Records is the unconsumed records per partition.
	Records map[int32]int64
	// Oldest is the timestamp of the first unconsumed record of each
	// lagging partition.
	Oldest map[int32]time.Time
	// Produced is every record of the topic: the lag of a group that never
	// committed.
	Produced int64
}

// Seconds is the lag in seconds of partition p at now (0 when it does not lag).
func (l Lag) Seconds(p int32, now time.Time) float64 {
	if ts, ok := l.Oldest[p]; ok {
		return now.Sub(ts).Seconds()
	}
	return 0
}

// Total is the unconsumed records over every partition.
func (l Lag) Total() int64 {
	var n int64
	for _, r := range l.Records {
		n += r
	}
	return n
}

// WriteBacklog creates raw_events and aggregated_metrics, produces b's
// records with their timestamps, commits the group's offsets and returns
// the lag they leave.
func WriteBacklog(ctx context.Context, brokers []string, b Backlog) (Lag, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return Lag{}, fmt.Errorf("seed backlog: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	parts := int32(len(b.Records))
	created, err := adm.CreateTopics(ctx, parts, 1, nil, metricdoc.TopicRawEvents, metricdoc.TopicAggregated)
	if err == nil {
		err = created.Error()
	}
	if err != nil {
		return Lag{}, fmt.Errorf("create topics: %w", err)
	}
	lag := Lag{Records: map[int32]int64{}, Oldest: map[int32]time.Time{}}
	var recs []*kgo.Record
	for p := range parts {
		n := b.Records[p]
		next := b.Committed[p] // 0 when never committed: the log start
		for i := range n {
			ts := b.Now.Add(-b.Oldest + time.Duration(i)*b.Spacing)
			recs = append(recs, &kgo.Record{Topic: metricdoc.TopicRawEvents, Partition: p, Timestamp: ts, Value: []byte(`{}`)})
			if int64(i) == next {
				lag.Oldest[p] = ts
			}
		}
		lag.Records[p] = max(int64(n)-next, 0)
		lag.Produced += int64(n)
	}
	if len(recs) > 0 {
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return Lag{}, fmt.Errorf("produce %s: %w", metricdoc.TopicRawEvents, err)
		}
	}
	var offs kadm.Offsets
	for p, at := range b.Committed {
		offs.AddOffset(metricdoc.TopicRawEvents, p, at, -1)
	}
	resp, err := adm.CommitOffsets(ctx, b.Group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return Lag{}, fmt.Errorf("commit offsets of %s: %w", b.Group, err)
	}
	return lag, nil
}
