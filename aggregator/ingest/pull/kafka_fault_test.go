package pull

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// TestKafkaRejectsWindowIsRetried fails the first produce request of the
// first window: the transaction aborts (none of its rows become
// visible, the cursor stays), the window is pulled again and committed once.
func TestKafkaRejectsWindowIsRetried(t *testing.T) {
	e := newEnv(t, envConfig{apps: 1, span: 2 * time.Hour})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInAppEvents}
	p := e.poller(t, o)
	c := e.kafka.Cluster()
	var injected atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		pr := req.(*kmsg.ProduceRequest)
		if injected.Add(1) != 1 {
			c.KeepControl()
			return nil, nil, false
		}
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range pr.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.MessageTooLarge.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if injected.Load() < 1 {
		t.Fatal("no produce was intercepted")
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_retries_total", nil); got < 1 {
		t.Fatalf("retries %v", got)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != 2 {
		t.Fatalf("windows committed %v, want 2", got)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
}
