package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/aggregate"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// PipelineOptions say where a Pipeline runs.
type PipelineOptions struct {
	// Brokers of the Kafka cluster; MongoURI and Database of the store
	// (Database "" is the store's default).
	Brokers  []string
	MongoURI string
	Database string
	// Aggregators is how many aggregators share the consumer group. Default 1.
	Aggregators int
	// PullFrom is where the poller's cursors start: before the traffic, so
	// it can backfill every lost push.
	PullFrom time.Time
	// Log receives every component's logs, each with a "part" attribute.
	Log *slog.Logger
}

// Pipeline is the data path from AppsFlyer to MongoDB in one process, for a
// test: the simulated AppsFlyer account's Pull API, the real ingest (push
// receiver and pull poller) and aggregators in one consumer group. It stops
// when the test ends, or earlier through Stop.
type Pipeline struct {
	pushURL, pushToken string
	stop               context.CancelFunc
	wg                 sync.WaitGroup
	clients            []*mongo.Client // the aggregators' stores, closed after they stop
	stopped            sync.Once
}

// StartPipeline starts a pipeline fed by world; failures to start end the
// test, failures while running are reported as test errors.
func StartPipeline(ctx context.Context, t testing.TB, world *simulate.World, o PipelineOptions) *Pipeline {
	t.Helper()
	if o.Aggregators == 0 {
		o.Aggregators = 1
	}
	const pullToken, pushToken = "pull-token-0123456789", "push-token-0123456789"
	api, err := simulate.NewServer(world, simulate.ServerOptions{Tokens: []string{pullToken}, QuotaPerDay: -1})
	if err != nil {
		t.Fatal(err)
	}
	pullAPI := httptest.NewServer(api)
	t.Cleanup(pullAPI.Close)
	pushLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ingestOpts := ingest.Options{Kafka: publish.Options{Brokers: o.Brokers, RawPartitions: 4}}
	ingestOpts.Push.Token = pushToken
	ingestOpts.Pull.BaseURL, ingestOpts.Pull.Token, ingestOpts.Pull.Apps = pullAPI.URL, pullToken, world.AppIDs()
	ingestOpts.Pull.Start = o.PullFrom
	ingestOpts.Pull.Window, ingestOpts.Pull.CatchUpWindow, ingestOpts.Pull.Delay = 10*time.Minute, time.Hour, time.Minute

	runCtx, stop := context.WithCancel(ctx)
	p := &Pipeline{pushURL: "http://" + pushLn.Addr().String() + "/v1/push", pushToken: pushToken, stop: stop}
	t.Cleanup(p.Stop)
	p.wg.Go(func() {
		err := ingest.Run(runCtx, ingestOpts, ingest.Deps{Log: o.Log.With("part", "ingest"), Registerer: prometheus.NewRegistry(), PushListener: pushLn})
		if err != nil && runCtx.Err() == nil {
			t.Errorf("ingest: %v", err)
		}
	})
	for i := range o.Aggregators {
		mc, err := mongo.Connect(options.Client().ApplyURI(o.MongoURI))
		if err != nil {
			t.Fatal(err)
		}
		p.clients = append(p.clients, mc)
		store, err := metricstore.Open(ctx, mc, metricstore.Options{Database: o.Database}, o.Log.With("part", "store"))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("aggregate-%d", i)
		agg, err := aggregate.New(aggregate.Options{Brokers: o.Brokers, FlushInterval: 250 * time.Millisecond}, store, o.Log.With("part", name), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		p.wg.Go(func() {
			if err := agg.Run(runCtx); err != nil && runCtx.Err() == nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	return p
}

// Push sends the deliveries to the receiver one by one. A lost delivery is
// not sent; a malformed one must be refused with 400, every other one
// accepted, else the test ends.
func (p *Pipeline) Push(ctx context.Context, t testing.TB, deliveries []simulate.Delivery) (accepted, rejected int) {
	t.Helper()
	pusher, err := simulate.NewPusher(simulate.PusherOptions{URL: p.pushURL, Token: p.pushToken})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deliveries {
		r := pusher.Send(ctx, d)
		switch {
		case d.Dropped:
		case r.Accepted():
			accepted++
		case r.Status == http.StatusBadRequest && d.Malformed:
			rejected++
		default:
			t.Fatalf("push %d: status %d, err %v", d.Seq, r.Status, r.Err)
		}
	}
	return accepted, rejected
}

// Stop stops ingest and the aggregators and waits for them; it may be
// called more than once.
func (p *Pipeline) Stop() {
	p.stopped.Do(func() {
		p.stop()
		p.wg.Wait()
		for _, mc := range p.clients {
			_ = mc.Disconnect(context.Background())
		}
	})
}
