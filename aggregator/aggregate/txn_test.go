package aggregate

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestAbortedTransactionsAreNotCounted: the pull ingest writes raw_events
// in transactions; records of an aborted transaction must not be counted
// (read_committed), committed ones must.
func TestAbortedTransactionsAreNotCounted(t *testing.T) {
	w := newWorld(t, 1)
	recs, tr := generate(6, 200, testStart, 10, w.loc)
	half := len(recs) / 2

	txn, err := kgo.NewClient(kgo.SeedBrokers(w.brokers...), kgo.TransactionalID("test-pull"),
		kgo.DefaultProduceTopic(metricdoc.TopicRawEvents))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	produceTxn := func(rs []genRecord, commit bool) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			rec := &kgo.Record{Key: r.key, Value: r.value, Timestamp: r.ts,
				Headers: []kgo.RecordHeader{{Key: metricdoc.HeaderSource, Value: []byte(metricdoc.SourcePull)}}}
			if err := txn.ProduceSync(t.Context(), rec).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.EndTransaction(context.Background(), kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	// Aborted events that would be new windows if they were counted.
	var ghost []genRecord
	for i := 0; i < 10; i++ {
		ghost = append(ghost, genRecord{key: []byte("ghost"), ts: testStart,
			value: rawEvent("ghost-app", "g", "install", testStart.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), "ios", "")})
	}

	w.start(Options{})
	produceTxn(recs[:half], true)
	produceTxn(ghost, false)
	produceTxn(recs[half:], true)
	w.waitCaughtUp(30 * time.Second)
	w.check(tr)
	// Three markers and the ten aborted records hold no event.
	var skipped int64
	for _, cp := range w.checkpoints() {
		skipped += cp.Skipped
	}
	if want := int64(3 + len(ghost)); skipped != want {
		t.Fatalf("checkpoints count %d skipped offsets, want %d", skipped, want)
	}
}
