package ingest

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/internal/kafkatest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/push"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// TestSimulatorPushTraffic sends the simulator's push traffic (strings,
// typed values, GET form; duplicates and malformed deliveries included)
// through the receiver: every 2xx is exactly one raw_events record with
// the body the simulator says it sent, every malformed delivery is a 400
// and one dead letter with its reason.
func TestSimulatorPushTraffic(t *testing.T) {
	modes := []struct {
		name, method string
		typed        bool
	}{
		{"POST strings", "POST", false},
		{"POST typed", "POST", true},
		{"GET form", "GET", false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			k := embeddedtest.Kafka(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, Options{
					Kafka: publish.Options{Brokers: k.Brokers(), RawPartitions: 3},
					Push:  push.Options{Token: "push-token", TokenHeader: "X-AF-Token"},
				}, Deps{Log: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(), PushListener: ln})
			}()

			world, err := simulate.NewWorld(11, simulate.WorldOptions{Apps: 3})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := world.Traffic(simulate.TrafficOptions{Rate: 20, DuplicateShare: 0.05, MalformedShare: 0.1, DropShare: 0.05})
			if err != nil {
				t.Fatal(err)
			}
			pusher, err := simulate.NewPusher(simulate.PusherOptions{URL: "http://" + ln.Addr().String() + "/v1/push",
				Method: m.method, Typed: m.typed, Token: "push-token", TokenHeader: "X-AF-Token"})
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu                   sync.Mutex
				accepted             = map[string]int{}
				acceptedN, malformed int
			)
			err = pusher.Run(ctx, tr, simulate.RunOptions{Count: 400, Workers: 16}, func(r simulate.Result) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.Delivery.Dropped:
				case r.Delivery.Malformed:
					malformed++
					if r.Status != 400 {
						t.Errorf("malformed delivery (%s) answered %d, want 400", r.Delivery.Reason, r.Status)
					}
				case r.Accepted():
					acceptedN++
					accepted[string(r.Raw)]++
				default:
					t.Errorf("valid delivery answered %d (%v)", r.Status, r.Err)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			if acceptedN == 0 || malformed == 0 {
				t.Fatalf("traffic had %d accepted and %d malformed deliveries; the test needs both", acceptedN, malformed)
			}

			raw := readAll(t, k.Brokers(), metricdoc.TopicRawEvents)
			if len(raw) != acceptedN {
				t.Fatalf("%d raw_events records for %d accepted pushes", len(raw), acceptedN)
			}
			for _, r := range raw {
				if accepted[string(r.Value)] == 0 {
					t.Fatalf("raw_events holds a body the simulator did not get a 2xx for: %s", r.Value)
				}
				accepted[string(r.Value)]--
			}
			if dlq := readAll(t, k.Brokers(), metricdoc.TopicDLQ); len(dlq) != malformed {
				t.Fatalf("%d dead letters for %d malformed deliveries", len(dlq), malformed)
			}
		})
	}
}

func readAll(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := kafkatest.Committed(ctx, brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
