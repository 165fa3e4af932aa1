//go:build integration

package realkafka

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBrokerSurvivesRestarts produces acknowledged records, then kills and gracefully restarts the
// broker, and checks every acknowledged record is still readable, in order, exactly once.
func TestBrokerSurvivesRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	b := ForTest(t, Options{})
	const topic = "realkafka_smoke"

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Brokers()...),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(100),
		kgo.RetryTimeout(time.Minute), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	start := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
	next := 0
	produce := func(n int) {
		t.Helper()
		step("produce " + strconv.Itoa(n) + " records from value " + strconv.Itoa(next))
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(next % 7)), Value: []byte(strconv.Itoa(next))}
			next++
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	produce(500)
	step("kill -9 and restart")
	if err := b.Restart(ctx, true); err != nil {
		t.Fatalf("restart after kill -9: %v", err)
	}
	produce(500)
	step("graceful restart")
	if err := b.Restart(ctx, false); err != nil {
		t.Fatalf("graceful restart: %v", err)
	}
	produce(500)
	if !b.Running() {
		t.Fatal("broker not marked running after Resume")
	}

	step("consume everything, read_committed")
	seen := consumeAll(ctx, t, b, topic, next)
	for i := range next {
		if len(seen[i]) != 1 {
			t.Fatalf("value %d read %d times after restarts (at %v), want exactly 1", i, len(seen[i]), seen[i])
		}
	}
	step("list end offsets")
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != int64(next) {
		t.Fatalf("end offsets sum to %d, want %d (retries must not duplicate with idempotence)", total, next)
	}
}

// TestKillWithoutRestartStopsCleanly checks Stop on a killed broker is a no-op, so test cleanups
// after a chaos step never fail.
func TestKillWithoutRestartStopsCleanly(t *testing.T) {
	b := ForTest(t, Options{ExtraConfig: map[string]string{"num.partitions": "1"}})
	if err := b.Kill(t.Context()); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if b.Running() {
		t.Fatal("broker still marked running after Kill")
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatalf("stop after kill: %v", err)
	}
}

// consumeAll reads want records and returns where each value was read ("partition/offset").
func consumeAll(ctx context.Context, t *testing.T, b *Broker, topic string, want int) map[int][]string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Brokers()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer cl.Close()
	seen := map[int][]string{}
	got := 0
	for got < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, want, err)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			v, err := strconv.Atoi(string(r.Value))
			if err != nil {
				t.Fatalf("record value %q: %v", r.Value, err)
			}
			seen[v] = append(seen[v], strconv.Itoa(int(r.Partition))+"/"+strconv.FormatInt(r.Offset, 10))
			got++
		})
	}
	if got != want {
		t.Fatalf("consumed %d records, want %d", got, want)
	}
	return seen
}

// TestPauseFreezesAndStopStillWorks checks a paused broker answers nothing (a produce times out),
// serves again after Continue, and that Stop works on a paused broker.
func TestPauseFreezesAndStopStillWorks(t *testing.T) {
	b := ForTest(t, Options{})
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Brokers()...), kgo.DefaultProduceTopic("realkafka_pause"))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 1, 1, nil, "realkafka_pause"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if err := cl.ProduceSync(t.Context(), kgo.StringRecord("before")).FirstErr(); err != nil {
		t.Fatalf("produce before pause: %v", err)
	}
	if err := b.Pause(t.Context()); err != nil {
		t.Fatalf("pause: %v", err)
	}
	// A metadata request, which honors its context (an idempotent produce in flight would not).
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	err = cl.Ping(ctx)
	cancel()
	if err == nil {
		t.Fatal("ping of a paused broker succeeded; want a timeout")
	}
	if err := b.Continue(t.Context()); err != nil {
		t.Fatalf("continue: %v", err)
	}
	if err := cl.ProduceSync(t.Context(), kgo.StringRecord("after")).FirstErr(); err != nil {
		t.Fatalf("produce after continue: %v", err)
	}
	if err := b.Pause(t.Context()); err != nil {
		t.Fatalf("pause again: %v", err)
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatalf("stop a paused broker: %v", err)
	}
	if b.Running() {
		t.Fatal("broker still marked running after Stop")
	}
}
