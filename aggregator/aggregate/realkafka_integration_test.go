//go:build integration

package aggregate

import (
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
)

// TestRealKafkaBrokerKillAndAggregatorCrash runs on Apache Kafka: the
// broker is killed with SIGKILL and restarted while the aggregator runs,
// then the aggregator itself is killed mid-stream and replaced. Totals and
// accounting must equal the truth.
func TestRealKafkaBrokerKillAndAggregatorCrash(t *testing.T) {
	broker := realkafka.ForTest(t, realkafka.Options{})
	w := newWorldOn(t, 3, broker.Brokers())
	recs, tr := generate(8, 900, testStart, 10, w.loc)
	cs := chunks(recs, 3)

	a := w.start(Options{})
	w.produce(cs[0])
	w.waitCaughtUp(90 * time.Second)

	if err := broker.Restart(t.Context(), true); err != nil {
		t.Fatalf("kill -9 and restart the broker: %v", err)
	}
	w.produce(cs[1])
	w.waitCaughtUp(120 * time.Second)

	w.produce(cs[2])
	a.kill()
	w.start(Options{})
	w.waitCaughtUp(120 * time.Second)
	w.check(tr)
}
