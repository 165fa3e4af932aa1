// Package committed reads a snapshot of what is committed on a Kafka topic:
// every record below the last stable offsets at the time of the call, read
// with read_committed. The pull poller loads its cursors this way, and
// ingest's tests check exactly what was published the same way.
package committed

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Read calls each for every committed data record of topic below the last
// stable offsets listed when it starts, partition by partition in offset
// order, and returns once every partition is read to that point; records
// written later are not passed. newConsumer builds the reading client from
// the consume options Read gives it (the caller adds brokers, TLS, ...).
// Call it after any transactional producer of the topic initialised its
// producer id: that aborts a crashed predecessor's open transaction, so the
// last stable offset reaches the end of the topic.
func Read(ctx context.Context, adm *kadm.Client, newConsumer func(...kgo.Opt) (*kgo.Client, error), topic string, each func(*kgo.Record)) error {
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	if err := lso.Error(); err != nil {
		return fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	parts := map[int32]kgo.Offset{}
	ends := map[int32]int64{}
	lso.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			parts[o.Partition] = kgo.NewOffset().AtStart()
			ends[o.Partition] = o.Offset
		}
	})
	if len(parts) == 0 {
		return nil
	}
	// Control records are kept so the commit marker just below the last
	// stable offset is seen: it says exactly when the snapshot is read.
	cl, err := newConsumer(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer cl.Close()
	for len(ends) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return fmt.Errorf("read %s: %w", topic, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, open := ends[r.Partition]
			if !open || r.Offset >= end {
				return // written after the snapshot
			}
			if !r.Attrs.IsControl() {
				each(r)
			}
			if r.Offset >= end-1 {
				delete(ends, r.Partition)
			}
		})
	}
	return nil
}
