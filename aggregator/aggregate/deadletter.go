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
			a.dlqMu.Lock()
			a.dlqFailed[p] = true
			a.dlqMu.Unlock()
		}
	})
}

// takeDLQFailures returns and clears the partitions with lost DLQ records.
func (a *Aggregator) takeDLQFailures() map[int32]bool {
	a.dlqMu.Lock()
	defer a.dlqMu.Unlock()
	f := a.dlqFailed
	a.dlqFailed = make(map[int32]bool)
	return f
}
