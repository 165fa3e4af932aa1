package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TopicSpec is one topic ingest makes sure exists.
type TopicSpec struct {
	Name       string
	Partitions int32
	Configs    map[string]string
}

// TopicSpecs returns the topics of the pipeline with their configs: raw_events,
// raw_events_dlq, aggregated_metrics and the compacted cursor topic.
func (o Options) TopicSpecs() []TopicSpec {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	return []TopicSpec{
		{Name: o.Topics.Raw, Partitions: o.RawPartitions, Configs: map[string]string{
			"cleanup.policy": "delete", "retention.ms": ms(o.RawRetention),
		}},
		{Name: o.Topics.DLQ, Partitions: 1, Configs: map[string]string{
			"cleanup.policy": "delete", "retention.ms": ms(o.DLQRetention),
		}},
		{Name: o.Topics.Aggregated, Partitions: o.RawPartitions, Configs: map[string]string{
			"cleanup.policy": "delete", "retention.ms": ms(o.AggregatedRetention),
		}},
		ChangelogSpec(metricdoc.TopicDedupChangelog, o.RawPartitions, o.ChangelogRetention),
		// One partition: a handful of keys, read whole at start.
		{Name: o.CursorTopic, Partitions: 1, Configs: map[string]string{
			"cleanup.policy": "compact", "retention.ms": "-1",
		}},
	}
}

// ChangelogSpec is the aggregator's de-duplication changelog: partition p
// holds the identities of raw_events partition p, kept by time for longer
// than the correction horizon the aggregator restores.
func ChangelogSpec(name string, partitions int32, retention time.Duration) TopicSpec {
	return TopicSpec{Name: name, Partitions: partitions, Configs: map[string]string{
		"cleanup.policy": "delete", "retention.ms": strconv.FormatInt(retention.Milliseconds(), 10),
	}}
}

// EnsureTopics creates the missing topics of o.TopicSpecs(). An existing
// topic is fine; a partition count different from the wanted one is logged,
// not fatal, because changing it would move keys between partitions.
func EnsureTopics(ctx context.Context, adm *kadm.Client, o Options, log *slog.Logger) error {
	for _, t := range o.TopicSpecs() {
		if err := EnsureTopic(ctx, adm, t, o.ReplicationFactor, log); err != nil {
			return err
		}
	}
	return nil
}

// EnsureTopic creates t unless it exists (replicationFactor -1: the
// broker's default).
func EnsureTopic(ctx context.Context, adm *kadm.Client, t TopicSpec, replicationFactor int16, log *slog.Logger) error {
	cfg := make(map[string]*string, len(t.Configs))
	for k, v := range t.Configs {
		cfg[k] = kadm.StringPtr(v)
	}
	resp, err := adm.CreateTopics(ctx, t.Partitions, replicationFactor, cfg, t.Name)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", t.Name, err)
	}
	r, err := resp.On(t.Name, nil)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", t.Name, err)
	}
	switch {
	case r.Err == nil:
		log.Info("topic created", "topic", t.Name, "partitions", t.Partitions)
	case errors.Is(r.Err, kerr.TopicAlreadyExists):
		return checkPartitions(ctx, adm, t, log)
	default:
		return fmt.Errorf("create topic %s: %w", t.Name, r.Err)
	}
	return nil
}

// checkPartitions compares an existing topic's partition count with the
// wanted one. It only informs: right after creation a broker's metadata can
// lag behind (UNKNOWN_TOPIC_OR_PARTITION for a topic that exists), and that
// must not stop the service.
func checkPartitions(ctx context.Context, adm *kadm.Client, t TopicSpec, log *slog.Logger) error {
	md, err := adm.ListTopics(ctx, t.Name)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("describe topic %s: %w", t.Name, err)
		}
		log.Warn("cannot check the partition count of an existing topic", "topic", t.Name, "err", err)
		return nil
	}
	d, ok := md[t.Name]
	if !ok || d.Err != nil {
		log.Warn("cannot check the partition count of an existing topic", "topic", t.Name, "err", d.Err)
		return nil
	}
	if got := int32(len(d.Partitions)); got != t.Partitions {
		log.Warn("existing topic has a different partition count; keeping it",
			"topic", t.Name, "partitions", got, "wanted_partitions", t.Partitions)
	}
	return nil
}
