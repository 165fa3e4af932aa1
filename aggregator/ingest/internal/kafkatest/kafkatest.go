// Package kafkatest holds the Kafka helper ingest's tests share: reading
// exactly what is committed on a topic.
package kafkatest

import (
	"context"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/internal/committed"
)

// Committed returns every committed record of topic (read_committed), up to
// the last stable offsets at the time of the call. It reads to exactly that
// point, so a test sees extra records as well as missing ones.
func Committed(ctx context.Context, brokers []string, topic string) ([]*kgo.Record, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	var out []*kgo.Record
	err = committed.Read(ctx, kadm.NewClient(adm), func(opts ...kgo.Opt) (*kgo.Client, error) {
		return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	}, topic, func(r *kgo.Record) { out = append(out, r) })
	return out, err
}
