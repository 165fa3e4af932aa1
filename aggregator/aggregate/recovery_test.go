package aggregate

import (
	"net/url"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestCrashRestart kills aggregators mid-stream (once right after a flush
// wrote live documents but before it checkpointed) and checks that the
// last one ends with the exact totals and exact events_total counters.
func TestCrashRestart(t *testing.T) {
	w := newWorld(t, 3)
	recs, tr := generate(2, 900, testStart, 10, w.loc)
	cs := chunks(recs, 3)

	a := w.start(Options{})
	w.produce(cs[0])
	w.waitCaughtUp(30 * time.Second)
	w.produce(cs[1])
	w.waitProgress(int64(len(cs[0])), 30*time.Second)
	a.kill()

	// b dies between its live writes and its checkpoints.
	b := w.prepare(Options{})
	crashed := make(chan struct{})
	b.a.afterLiveWrite = func() {
		b.a.crashed.Store(true)
		b.cancel()
		close(crashed)
		b.a.afterLiveWrite = nil
	}
	b.run()
	w.produce(cs[2])
	<-crashed
	b.kill()
	before := w.checkpoints()

	c := w.start(Options{})
	w.waitCaughtUp(60 * time.Second)
	w.check(tr)
	var sum int64
	for _, cp := range before {
		sum += cp.Offset
	}
	t.Logf("b crashed with checkpoints covering %d of %d records", sum, tr.n)
	// c rebuilt its de-duplication sets from the changelog, not raw_events.
	fromLog, fromRaw := counterValue(t, c.a.m.restoreBytes.WithLabelValues("changelog")), counterValue(t, c.a.m.restoreBytes.WithLabelValues("raw_events"))
	if fromLog == 0 || fromRaw != 0 {
		t.Errorf("restore read %v changelog bytes and %v raw_events bytes; want the changelog only", fromLog, fromRaw)
	}
	want := [numOutcomes]int64{tr.counted, tr.duplicates, tr.tooLate, tr.dlq}
	for o := outcome(0); o < numOutcomes; o++ {
		if got := int64(counterValue(t, c.a.m.events[o])); got != want[o] {
			t.Errorf("events_total{outcome=%s} = %d after restarts, want %d", o, got, want[o])
		}
	}
}

// TestRebalance runs two aggregators in one group: the second joins
// mid-stream, then the first is killed mid-stream.
func TestRebalance(t *testing.T) {
	w := newWorld(t, 4)
	recs, tr := generate(3, 900, testStart, 10, w.loc)
	cs := chunks(recs, 3)

	a := w.start(Options{})
	w.produce(cs[0])
	w.waitCaughtUp(30 * time.Second)
	w.produce(cs[1])
	b := w.start(Options{})
	w.waitCaughtUp(60 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for owned(a) == 0 || owned(b) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("partitions not shared after the join: a owns %d, b owns %d", owned(a), owned(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.produce(cs[2])
	a.kill()
	w.waitCaughtUp(60 * time.Second)
	if owned(b) != 4 {
		t.Fatalf("b owns %d partitions after a died, want 4", owned(b))
	}
	w.check(tr)
}

func owned(in *instance) int {
	in.a.mu.Lock()
	defer in.a.mu.Unlock()
	return len(in.a.parts)
}

// TestMongoOutage stops MongoDB mid-stream: the aggregator must pause,
// keep retrying, and end exact once MongoDB is back on the same data.
func TestMongoOutage(t *testing.T) {
	w := newWorld(t, 2)
	recs, tr := generate(4, 700, testStart, 10, w.loc)
	cs := chunks(recs, 3)

	a := w.start(Options{})
	w.produce(cs[0])
	w.waitCaughtUp(30 * time.Second)

	u, err := url.Parse(w.mongo.URI())
	if err != nil {
		t.Fatal(err)
	}
	w.mongo.Close()
	w.produce(cs[1])
	deadline := time.Now().Add(30 * time.Second)
	for a.a.Ready() == nil {
		if time.Now().After(deadline) {
			t.Fatal("aggregator still ready with MongoDB down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if counterValue(t, a.a.m.mongoErrors) < 1 {
		t.Fatal("no mongo write error counted")
	}
	w.startMongo(u.Host)
	w.waitCaughtUp(60 * time.Second)
	// A flush that failed on a connection from before the outage can end
	// after the checkpoints caught up; readiness follows the next flush.
	deadline = time.Now().Add(30 * time.Second)
	for {
		err := a.a.Ready()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after MongoDB came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.produce(cs[2])
	w.waitCaughtUp(30 * time.Second)
	w.check(tr)
}

// TestConcurrentOwners runs two aggregators in different groups, so both
// believe they own every partition (the zombie case after a missed session
// timeout, made permanent). The offset-guarded writes and forward-only
// checkpoints must keep the totals exact.
func TestConcurrentOwners(t *testing.T) {
	w := newWorld(t, 2)
	// Two live owners race; only the atomic guard refuses a stale write
	// that interleaves with a newer one (FerretDB's fast path does not).
	w.atomic = true
	recs, tr := generate(5, 600, testStart, 10, w.loc)
	cs := chunks(recs, 3)
	a := w.start(Options{Group: "g1"})
	w.produce(cs[0])
	w.waitCaughtUp(30 * time.Second)
	// b takes small steps and flushes after each (its clock jumps a second
	// per look), and its first store round waits until a has written
	// everything, so it writes behind a and must yield to a's newer
	// documents and checkpoints.
	b := w.prepare(Options{Group: "g2", MaxPollRecords: 5, Now: clock.NewStepping(time.Unix(0, 0), time.Second).Now})
	release := make(chan struct{})
	b.a.beforeRound = func(r *storeRound) {
		for _, rp := range r.parts {
			if len(rp.live) > 0 {
				<-release
				return
			}
		}
	}
	b.run()
	w.produce(cs[1])
	w.produce(cs[2])
	w.waitCaughtUp(60 * time.Second)
	close(release)
	deadline := time.Now().Add(60 * time.Second)
	for counterValue(t, b.a.m.conflicts.WithLabelValues("live_window"))+counterValue(t, b.a.m.conflicts.WithLabelValues("checkpoint")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("b's round behind a was never refused")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.waitCaughtUp(60 * time.Second)
	a.stop()
	b.stop()
	w.check(tr)
	conflicts := counterValue(t, b.a.m.conflicts.WithLabelValues("live_window")) + counterValue(t, b.a.m.conflicts.WithLabelValues("checkpoint")) +
		counterValue(t, a.a.m.conflicts.WithLabelValues("live_window")) + counterValue(t, a.a.m.conflicts.WithLabelValues("checkpoint"))
	if conflicts == 0 {
		t.Fatal("no ownership conflict happened: the test did not exercise the stale-writer path")
	}
	t.Logf("%v ownership conflicts resolved", conflicts)
}

// TestRetentionGapIsLoud restarts an aggregator after the retention
// deleted records it had not processed yet (and the changelog records its
// restore needs): the lost records are accounted in the checkpoint and
// counted by the gap metrics; nothing is skipped silently.
func TestRetentionGapIsLoud(t *testing.T) {
	w := newWorld(t, 1)
	recs, _ := generate(2, 600, testStart, 10, w.loc)
	a := w.start(Options{})
	w.produce(recs[:300])
	w.waitCaughtUp(30 * time.Second)
	a.kill()
	w.produce(recs[300:])
	cp := w.checkpoints()[0]
	if cp.Offset == 0 {
		t.Fatal("no checkpoint before the kill")
	}

	// Retention passes: raw_events loses 25 records never processed, the
	// changelog everything.
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: metricdoc.TopicRawEvents, Partition: 0, At: cp.Offset + 25})
	ends, err := w.adm.ListEndOffsets(t.Context(), metricdoc.TopicDedupChangelog)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(metricdoc.TopicDedupChangelog, 0)
	del.Add(kadm.Offset{Topic: metricdoc.TopicDedupChangelog, Partition: 0, At: end.Offset})
	resp, err := w.adm.DeleteRecords(t.Context(), del)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}

	b := w.start(Options{})
	w.waitCaughtUp(30 * time.Second)
	after := w.checkpoints()[0]
	if after.Lost != 25 {
		t.Fatalf("checkpoint lost = %d, want 25 (%+v)", after.Lost, after)
	}
	if sum := after.Counted + after.Duplicates + after.TooLate + after.DeadLettered + after.Skipped + after.Lost; sum != after.Offset {
		t.Fatalf("offset %d != outcomes + skipped + lost %d", after.Offset, sum)
	}
	if got := counterValue(t, b.a.m.lostRecords); got != 25 {
		t.Errorf("lost_records_total = %v, want 25", got)
	}
	for _, topic := range []string{metricdoc.TopicRawEvents, metricdoc.TopicDedupChangelog} {
		if got := counterValue(t, b.a.m.gaps.WithLabelValues(topic)); got != 1 {
			t.Errorf("state_gaps_total{topic=%s} = %v, want 1", topic, got)
		}
	}
}
