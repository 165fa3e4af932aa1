//go:build integration

package brokerfault

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
)

var _ Target = (*realkafka.Broker)(nil)

// TestIngestProducerKeepsAckedWritesThroughBrokerFaults produces a numbered sequence with ingest's
// own client settings (publish.ClientOpts: acks=all, idempotent, delivery timeout) while the broker
// is killed, stopped and frozen, then reads the topic back: every acknowledged record must be there
// exactly once; records the producer gave up on may be there at most once.
func TestIngestProducerKeepsAckedWritesThroughBrokerFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	b := realkafka.ForTest(t, realkafka.Options{})
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	const topic = "brokerfault_producer"

	opts := publish.Options{Brokers: b.Brokers()}.WithDefaults()
	cl, err := publish.NewClient(opts, "faults", log, nil)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	faultOpts := Options{Count: 3, Gap: 2 * time.Second, Down: 2 * time.Second, Seed: 7,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	l := NewLedger()
	prodCtx, stopProducing := context.WithCancel(ctx)
	produced := make(chan int64, 1)
	go func() {
		produced <- ProduceSequence(prodCtx, cl, topic, l, 2*time.Millisecond, 1<<40, 30*time.Second)
	}()
	injected, err := Run(ctx, b, faultOpts)
	if err != nil {
		stopProducing()
		<-produced
		t.Fatalf("inject faults: %v", err)
	}
	// Keep producing for a moment on the healthy broker, so recovery is exercised too.
	time.Sleep(2 * time.Second)
	stopProducing()
	<-produced
	for _, in := range injected {
		t.Logf("fault %-5s outage %-6s restart %s", in.Fault, in.Outage.Round(time.Millisecond), in.Restart.Round(time.Millisecond))
	}

	read, err := ReadAll(ctx, b.Brokers(), topic, DecodeValue)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	v := l.Check(read)
	t.Log(v.Summary("broker-faults-ingest-producer"))
	if v.Acked == 0 {
		t.Fatal("nothing was acknowledged: the scenario proved nothing")
	}
	if !v.OK() {
		t.Fatalf("%s; offending ids %v", v.Summary("broker-faults-ingest-producer"), v.Examples)
	}
}
