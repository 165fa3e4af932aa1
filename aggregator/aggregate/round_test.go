package aggregate

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/netfault"
)

// TestUpdatesFlowWhileStoreStalls: MongoDB stops answering (every reply is
// lost, so each store call hangs until its timeout). Consumption and
// aggregated_metrics must not wait for it: the updates reach the exact
// totals while the store round hangs. Once MongoDB answers again the store
// catches up and is exact too.
func TestUpdatesFlowWhileStoreStalls(t *testing.T) {
	w := newWorld(t, 2)
	u, err := url.Parse(w.mongo.URI())
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := netfault.Listen(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	w.storeURI = "mongodb://" + proxy.Addr() + "/"
	recs, tr := generate(6, 600, testStart, 10, w.loc)
	cs := chunks(recs, 2)

	in := w.start(Options{})
	w.produce(cs[0])
	w.waitCaughtUp(30 * time.Second)

	proxy.Drop(true)
	stalledAt := counterValue(t, in.a.m.mongoErrors)
	w.produce(cs[1])
	w.waitUpdatesMatch(tr, 60*time.Second)
	if got := counterValue(t, in.a.m.mongoErrors); got != stalledAt {
		t.Fatalf("%v store rounds failed while MongoDB was silent; the test needs them hanging, not failed", got-stalledAt)
	}

	proxy.Drop(false)
	proxy.Reset() // the hanging round fails now and is retried
	w.waitCaughtUp(60 * time.Second)
	w.check(tr)
	in.stop()
}

// waitUpdatesMatch reads aggregated_metrics until the newest update of
// every (window, dimensions, partition) sums to the truth.
func (w *world) waitUpdatesMatch(tr truth, timeout time.Duration) {
	w.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.brokers...), kgo.ConsumeTopics(metricdoc.TopicAggregated))
	if err != nil {
		w.t.Fatal(err)
	}
	defer cl.Close()
	latest := make(map[string]metricdoc.Update)
	deadline := time.Now().Add(timeout)
	diff := len(tr.windows)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(w.t.Context(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			var up metricdoc.Update
			if err := json.Unmarshal(r.Value, &up); err != nil {
				w.t.Fatalf("%s record: %v", metricdoc.TopicAggregated, err)
			}
			id := metricdoc.LiveID(up.Granularity, up.WindowStart, up.Meta, up.Partition)
			if old, ok := latest[id]; !ok || up.Offset >= old.Offset {
				latest[id] = up
			}
		})
		sums := make(map[truthKey]metricdoc.Totals)
		for _, up := range latest {
			k := truthKey{up.Granularity, up.WindowStart.Unix(), up.Meta}
			t := sums[k]
			t.Add(up.Totals)
			sums[k] = t
		}
		diff = 0
		for k, want := range tr.windows {
			if sums[k] != want {
				diff++
			}
		}
		if diff == 0 && len(sums) == len(tr.windows) {
			return
		}
	}
	w.t.Fatalf("after %s, %d of %d windows on %s still differ from the truth", timeout, diff, len(tr.windows), metricdoc.TopicAggregated)
}

// TestRoundShare: over the limit, a round takes the longest-waiting and the
// most recently changed windows half and half, across partitions; under it,
// everything.
func TestRoundShare(t *testing.T) {
	p0, p1 := &partState{p: 0}, &partState{p: 1}
	byMs := make(map[int64]*window)
	for ms := int64(1); ms <= 10; ms++ {
		w := &window{dirty: true, dirtyMs: ms}
		byMs[ms] = w
		ps := p0
		if ms%2 == 0 {
			ps = p1
		}
		ps.dirty = append(ps.dirty, w)
	}
	if got := roundShare([]*partState{p0, p1}, 10); got != nil {
		t.Fatalf("limit 10 of 10 windows took %d, want all (nil)", len(got))
	}
	got := roundShare([]*partState{p0, p1}, 4)
	for ms, w := range byMs {
		want := ms <= 2 || ms >= 9
		if got[w] != want {
			t.Errorf("window changed at %d: taken %v, want %v", ms, got[w], want)
		}
	}
	// A round that leaves windows behind neither finalizes nor checkpoints
	// the partitions it left them in.
	a := &Aggregator{opts: Options{Topic: metricdoc.TopicRawEvents, Now: time.Now}.WithDefaults(), rules: &rules{loc: time.UTC}}
	p0.maxMs, p1.maxMs = noTime, noTime
	p0.fresh, p1.fresh = map[freshKey]freshVal{}, map[freshKey]freshVal{}
	r := a.newRound([]*partState{p0, p1}, 4)
	for _, rp := range r.parts {
		if !rp.partial || rp.saveCP || len(rp.finals[0])+len(rp.finals[1]) > 0 {
			t.Errorf("partition %d: partial=%v saveCP=%v finals=%d; want a partial round without finals or checkpoint",
				rp.ps.p, rp.partial, rp.saveCP, len(rp.finals[0])+len(rp.finals[1]))
		}
		if len(rp.live)+len(rp.ps.dirty) != 5 {
			t.Errorf("partition %d: %d written + %d left, want 5 windows", rp.ps.p, len(rp.live), len(rp.ps.dirty))
		}
	}
}

// TestLostUpdateIsPublishedAgain: the broker refuses the aggregated_metrics
// updates of the last change (nothing changes after it), so only sending
// the partition again brings followers to the exact totals.
func TestLostUpdateIsPublishedAgain(t *testing.T) {
	k := embeddedtest.Kafka(t)
	w := newWorldOn(t, 2, k.Brokers())
	recs, tr := generate(7, 600, testStart, 10, w.loc)
	cs := chunks(recs, 2)
	in := w.start(Options{})
	w.produce(cs[0])
	w.waitCaughtUp(30 * time.Second)

	// Refuse the next produce request that only carries updates.
	refused, err := k.FailProduce(kerr.InvalidRecord.Code, 1, metricdoc.TopicAggregated)
	if err != nil {
		t.Fatal(err)
	}
	w.produce(cs[1])
	deadline := time.Now().Add(30 * time.Second)
	for refused.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no update was refused")
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.waitCaughtUp(30 * time.Second)
	if got := counterValue(t, in.a.m.kafkaErrors.WithLabelValues("publish")); got == 0 {
		t.Fatal("refused updates were not counted as publish errors")
	}
	w.waitUpdatesMatch(tr, 30*time.Second)
	in.stop()
}
