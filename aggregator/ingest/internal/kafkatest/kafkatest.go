// Package kafkatest holds the Kafka helpers ingest's tests share: reading
// exactly what is committed on a topic, and making kfake reject produces.
package kafkatest

import (
	"context"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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

// FailProduce makes kfake answer the next n produce requests (every one if
// n < 0) with the error code on all their partitions. It returns how many
// requests it has failed so far.
func FailProduce(c *kfake.Cluster, code int16, n int) *atomic.Int64 {
	var failed atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if n >= 0 && failed.Load() >= int64(n) {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		failed.Add(1)
		pr := req.(*kmsg.ProduceRequest)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range pr.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	return &failed
}
