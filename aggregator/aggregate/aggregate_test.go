package aggregate

import (
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestTotalsMatchTruth: one aggregator, a mixed stream, graceful stop;
// with the partitions of a poll counted in parallel (the default, as in
// every other test) and on the poll loop alone.
func TestTotalsMatchTruth(t *testing.T) {
	for _, workers := range []int{0, 1} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) { totalsMatchTruth(t, workers) })
	}
}

func totalsMatchTruth(t *testing.T, workers int) {
	w := newWorld(t, 3)
	recs, tr := generate(1, 800, testStart, 10, w.loc)
	t.Log(describe(tr))
	// Many small store rounds, some started in mid-poll, most partial.
	in := w.start(Options{MaxRoundWindows: 20, Workers: workers})
	for _, c := range chunks(recs, 3) {
		w.produce(c)
	}
	w.waitCaughtUp(30 * time.Second)
	w.check(tr)
	if got := counterValue(t, in.a.m.events[outDeadLettered]); int64(got) != tr.dlq {
		t.Fatalf("events_total{dead_lettered} = %v, want %d", got, tr.dlq)
	}
	in.stop()
	if c := &in.a.counter; (c.helpers > 0) != (c.workers > 1) {
		t.Fatalf("%d workers started %d helper goroutines", c.workers, c.helpers)
	}

	// Dead letters carry reason and origin.
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.brokers...), kgo.ConsumeTopics(metricdoc.TopicDLQ, metricdoc.TopicAggregated))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var dlq, updates int64
	for dlq < tr.dlq || updates == 0 {
		fs := cl.PollFetches(t.Context())
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic == metricdoc.TopicAggregated {
				updates++
				return
			}
			dlq++
			var reason, origin string
			for _, h := range r.Headers {
				switch h.Key {
				case metricdoc.HeaderDLQReason:
					reason = string(h.Value)
				case metricdoc.HeaderDLQOrigin:
					origin = string(h.Value)
				}
			}
			if reason == "" || len(origin) < len("raw_events/0/0") {
				t.Errorf("dead letter without reason/origin: %q %q", reason, origin)
			}
		})
	}
	if dlq != tr.dlq {
		t.Fatalf("%d dead letters, want %d", dlq, tr.dlq)
	}
}
