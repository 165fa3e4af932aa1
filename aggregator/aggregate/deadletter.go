package aggregate

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// deadLetter copies an invalid record to the DLQ with its reason and
// position. The flush waits for these acks before it checkpoints; a lost
// one makes the partition replay from its checkpoint, so the DLQ is
// at-least-once (dlq_origin identifies copies).
func (a *Aggregator) deadLetter(r *kgo.Record, reason event.Reason) {
	if c := a.m.deadLettered[reason]; c != nil {
		c.Inc()
	}
	p := r.Partition
	headers := append([]kgo.RecordHeader{
		{Key: metricdoc.HeaderDLQReason, Value: []byte(reason)},
		{Key: metricdoc.HeaderDLQOrigin, Value: []byte(a.opts.Topic + "/" + strconv.Itoa(int(p)) + "/" + strconv.FormatInt(r.Offset, 10))},
	}, r.Headers...)
	dl := &kgo.Record{Topic: a.opts.DLQTopic, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp}
	a.cl.Produce(nil, dl, func(_ *kgo.Record, err error) {
		if err != nil {
			a.m.kafkaErrors.WithLabelValues("dlq").Inc()
			a.markFailed(a.dlqFailed, p)
		}
	})
}

// markFailed records, from a produce callback, that partition p lost a
// record of set's kind (dlqFailed: dead letters, logFailed: changelog,
// pubFailed: aggregated_metrics updates).
func (a *Aggregator) markFailed(set map[int32]bool, p int32) {
	a.dlqMu.Lock()
	set[p] = true
	a.dlqMu.Unlock()
}

// takeFailures returns and clears *set (dlqFailed or logFailed): the
// partitions that lost records of that kind since the last store round.
func (a *Aggregator) takeFailures(set *map[int32]bool) map[int32]bool {
	a.dlqMu.Lock()
	defer a.dlqMu.Unlock()
	f := *set
	*set = make(map[int32]bool)
	return f
}
