package publish

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Producer publishes single events synchronously with franz-go's idempotent
// producer: a call returns only once Kafka acknowledged the record (acks=all)
// or failed, which is what lets the push receiver answer 2xx truthfully.
// Concurrent calls share batches, so throughput comes from concurrency.
type Producer struct {
	cl     *kgo.Client
	topics metricdoc.Topics
	m      *Metrics
	source string
	now    func() time.Time
}

// NewProducer builds an idempotent producer for one source ("push" or
// "pull"). now may be nil (time.Now).
func NewProducer(o Options, source string, m *Metrics, log *slog.Logger, reg prometheus.Registerer, now func() time.Time) (*Producer, error) {
	cl, err := NewClient(o, source, log, reg)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Producer{cl: cl, topics: o.WithDefaults().Topics, m: m, source: source, now: now}, nil
}

// Publish writes a validated event to raw_events and waits for the ack.
func (p *Producer) Publish(ctx context.Context, ev *event.Event, value []byte) error {
	if err := p.produce(ctx, RawRecord(p.topics.Raw, p.source, ev, value, p.now())); err != nil {
		return fmt.Errorf("produce to raw_events: %w", err)
	}
	p.m.Published.WithLabelValues(p.source).Inc()
	return nil
}

// DeadLetter writes a rejected input to raw_events_dlq and waits for the ack.
func (p *Producer) DeadLetter(ctx context.Context, origin, reason string, value []byte) error {
	if err := p.produce(ctx, DLQRecord(p.topics.DLQ, p.source, origin, reason, value, p.now())); err != nil {
		return fmt.Errorf("produce to raw_events_dlq: %w", err)
	}
	p.m.DLQ.WithLabelValues(p.source, reason).Inc()
	return nil
}

// produce waits for the ack of r, or for ctx. Unlike ProduceSync it returns
// when ctx ends even if the idempotent producer keeps retrying a record it
// cannot safely fail (the record may then still land: a duplicate that the
// aggregator removes by identity, never a lost event answered 2xx).
func (p *Producer) produce(ctx context.Context, r *kgo.Record) error {
	done := make(chan error, 1)
	p.cl.Produce(ctx, r, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the ack: %w", context.Cause(ctx))
	}
}

// Ping checks that a broker answers, for readiness probes.
func (p *Producer) Ping(ctx context.Context) error { return p.cl.Ping(ctx) }

// Close flushes what is buffered (bounded by ctx) and closes the client.
func (p *Producer) Close(ctx context.Context) error {
	err := p.cl.Flush(ctx)
	p.cl.Close()
	if err != nil {
		return fmt.Errorf("flush producer: %w", err)
	}
	return nil
}

// Metrics returns the counters the producer updates.
func (p *Producer) Metrics() *Metrics { return p.m }
