//go:build integration && chaos

// Behind the extra "chaos" tag (make chaos-realkafka): it takes minutes and rests on
// aggregator/testbed/chaos, which must first pass on its own (make chaos).

package brokerfault

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/chaos"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
)

// TestAggregatorExactThroughBrokerFaults runs aggregator/testbed/chaos (seeded traffic, two aggregators
// SIGKILLed at random, a MongoDB outage, an independent oracle) against the real broker while this
// package restarts and freezes that broker. Stored windows must equal the ground truth and every
// record must be accounted for. Broker faults are limited to ones shorter than ingest's delivery
// timeout (10 s), because chaos' feeder treats a failed produce as a failed run, not a fault.
func TestAggregatorExactThroughBrokerFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	b := realkafka.ForTest(t, realkafka.Options{})
	bin := buildBinary(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	type outcome struct {
		res *chaos.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := chaos.Run(ctx, chaos.Options{
			Binary: bin, Brokers: b.Brokers(), Dir: t.TempDir(),
			Events: 15000, Kills: 6, StoreOutages: 1, Instances: 2, Seed: 3, Log: log,
		})
		done <- outcome{res, err}
	}()
	injected, ferr := Run(ctx, b, Options{
		Faults: []Fault{Pause, Stop}, Count: 3, Gap: 2500 * time.Millisecond, Down: 500 * time.Millisecond, Seed: 3, Log: log,
	})
	out := <-done
	if ferr != nil {
		t.Fatalf("inject broker faults: %v", ferr)
	}
	if out.err != nil {
		t.Fatalf("chaos run: %v", out.err)
	}
	for _, in := range injected {
		t.Logf("fault %-5s outage %s", in.Fault, in.Outage.Round(time.Millisecond))
	}
	r := out.res
	t.Logf("scenario broker-faults+aggregator-kills: produced=%d counted=%d mismatched_windows=%d broker_faults=%d aggregator_kills=%d store_outages=%d",
		r.Produced, r.Accounting.Counted, len(r.Mismatches), len(injected), r.Kills, r.Outages)
	if !r.OK() {
		for i, m := range r.Mismatches {
			if i == 5 {
				break
			}
			t.Logf("mismatch %s %s %+v: want %+v got %+v", m.Granularity, m.Key.Start.Format(time.RFC3339), m.Key.Meta, m.Want, m.Got)
		}
		t.Fatalf("%s (accounting holds=%t processed=%d; logs in %s)", r.Summary(), r.Accounting.Holds(), r.Accounting.Processed, r.Dir)
	}
}
