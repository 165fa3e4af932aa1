package embedded

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FailProduce makes the broker answer the next n produce requests (every
// one if n < 0) with the error code on all their partitions. With topics
// (which must exist), only requests that write to nothing else are failed;
// the others pass. It returns how many requests it has failed so far.
func (k *Kafka) FailProduce(code int16, n int, topics ...string) (*atomic.Int64, error) {
	only, err := k.topicIDs(topics)
	if err != nil {
		return nil, err
	}
	var failed atomic.Int64
	c := k.c
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if n >= 0 && failed.Load() >= int64(n) {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if only != nil {
			for _, rt := range pr.Topics {
				if !only[rt.Topic] && !only[kadm.TopicID(rt.TopicID).String()] {
					return nil, nil, false
				}
			}
		}
		failed.Add(1)
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
	return &failed, nil
}

// topicIDs returns the names and ids of topics as a set (produce requests
// name topics by id on current protocol versions); nil for no topics.
func (k *Kafka) topicIDs(topics []string) (map[string]bool, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listed, err := kadm.NewClient(cl).ListTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("look up topics %v: %w", topics, err)
	}
	set := make(map[string]bool, 2*len(topics))
	for _, t := range topics {
		d, ok := listed[t]
		if !ok || d.Err != nil {
			return nil, fmt.Errorf("look up topic %s: not found (%v)", t, d.Err)
		}
		set[t], set[d.ID.String()] = true, true
	}
	return set, nil
}
