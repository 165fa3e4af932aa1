package brokerfault

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ProduceSequence writes records with values 0, 1, 2, ... to topic, one every interval, until ctx
// ends or max records were handed over, noting each outcome in l. It then waits (up to drain) for
// the outstanding acks, so every Sent id ends Acked, Failed, or unanswered after the drain.
func ProduceSequence(ctx context.Context, cl *kgo.Client, topic string, l *Ledger, interval time.Duration, max int64, drain time.Duration) int64 {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var id int64
	for ; id < max; id++ {
		select {
		case <-ctx.Done():
			return finish(cl, drain, id)
		case <-tick.C:
		}
		n := id
		l.Sent(n)
		// Key spreads the ids over partitions; a background context so a cancelled run still
		// learns each record's fate during the drain.
		r := &kgo.Record{Topic: topic, Key: []byte(strconv.FormatInt(n%97, 10)), Value: []byte(strconv.FormatInt(n, 10))}
		cl.Produce(context.WithoutCancel(ctx), r, func(_ *kgo.Record, err error) {
			if err != nil {
				l.Fail(n)
				return
			}
			l.Ack(n)
		})
	}
	return finish(cl, drain, id)
}

func finish(cl *kgo.Client, drain time.Duration, n int64) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	_ = cl.Flush(ctx) // an unanswered record stays unacked: allowed to be absent
	return n
}

// Decode extracts the ledger id from a record.
type Decode func(r *kgo.Record) (int64, error)

// DecodeValue reads the id ProduceSequence writes: the record value as a decimal number.
func DecodeValue(r *kgo.Record) (int64, error) { return strconv.ParseInt(string(r.Value), 10, 64) }

// ReadAll reads topic from the start to the end offsets current when it is called, with
// read_committed isolation, and returns how often each id (as decode finds it) was read. It is meant for the
// non-transactional topics ProduceSequence writes: a trailing transaction marker would leave a
// partition short of its end offset until ctx ends.
func ReadAll(ctx context.Context, seeds []string, topic string, decode Decode) (map[int64]int, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return nil, fmt.Errorf("read %s: admin client: %w", topic, err)
	}
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, topic)
	adm.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: end offsets: %w", topic, err)
	}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return nil, fmt.Errorf("read %s: consumer: %w", topic, err)
	}
	defer cl.Close()
	read := map[int64]int{}
	var bad error
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return read, fmt.Errorf("read %s: %d partitions not read to the end: %w", topic, len(remaining), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if id, err := decode(r); err != nil {
				bad = errors.Join(bad, fmt.Errorf("partition %d offset %d: %w", r.Partition, r.Offset, err))
			} else {
				read[id]++
			}
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	if bad != nil {
		return read, fmt.Errorf("read %s: foreign records: %w", topic, bad)
	}
	return read, nil
}
