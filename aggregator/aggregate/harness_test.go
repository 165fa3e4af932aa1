package aggregate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
)

// world is one test's Kafka (kfake) and MongoDB (FerretDB) plus a client
// of each for producing and checking.
type world struct {
	t          *testing.T
	brokers    []string
	atomic     bool // aggregators use the atomic live-write guard on FerretDB too
	mongo      *embedded.Mongo
	mongoDir   string
	mongoAddr  string
	mc         *mongo.Client
	db         *mongo.Database
	producer   *kgo.Client
	adm        *kadm.Client
	partitions int32
	loc        *time.Location
	log        *slog.Logger
	// finalCopies counts repeated appends of a final window seen by stored.
	finalCopies int
	// storeURI, when set, is where aggregators reach MongoDB (a proxy);
	// the test's own reads always go to the server.
	storeURI string
}

func newWorld(t *testing.T, partitions int32) *world {
	t.Helper()
	k := embeddedtest.Kafka(t)
	return newWorldOn(t, partitions, k.Brokers())
}

// newWorldOn builds a world on the given Kafka brokers (kfake or a real
// broker) with its own FerretDB.
func newWorldOn(t *testing.T, partitions int32, brokers []string) *world {
	t.Helper()
	w := &world{t: t, partitions: partitions, loc: time.UTC, mongoDir: memDir(t), brokers: brokers}
	level := slog.LevelWarn
	if os.Getenv("AGGREGATE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	w.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	w.startMongo("")
	t.Cleanup(func() { w.mongo.Close() })
	var err error
	w.mc, err = mongo.Connect(options.Client().ApplyURI(w.mongo.URI()).SetServerSelectionTimeout(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.mc.Disconnect(context.Background()) })
	w.db = w.mc.Database("campaignpulse")
	w.producer, err = kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.producer.Close)
	w.adm = kadm.NewClient(w.producer)
	for _, topic := range []string{metricdoc.TopicRawEvents, metricdoc.TopicDLQ, metricdoc.TopicAggregated} {
		if _, err := w.adm.CreateTopic(t.Context(), partitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// memDir is a data directory for FerretDB's SQLite files on tmpfs where
// there is one: FerretDB commits every write with an fsync, which on disk
// makes each upsert cost milliseconds.
func memDir(t *testing.T) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "aggregate-test-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func (w *world) startMongo(addr string) {
	m, err := embedded.StartMongo(context.Background(), w.mongoDir, addr, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	w.mongo = m
	w.mongoAddr = m.URI()
}

func (w *world) produce(recs []genRecord) {
	w.t.Helper()
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{
			Topic: metricdoc.TopicRawEvents, Key: r.key, Value: r.value, Timestamp: r.ts,
			Headers: []kgo.RecordHeader{{Key: metricdoc.HeaderSource, Value: []byte(r.source)},
				{Key: metricdoc.HeaderIngestTime, Value: []byte(r.ts.UTC().Format("2006-01-02T15:04:05.000Z07:00"))}},
		}
	}
	if err := w.producer.ProduceSync(w.t.Context(), krs...).FirstErr(); err != nil {
		w.t.Fatal(err)
	}
}

// instance is one running aggregator.
type instance struct {
	a      *Aggregator
	reg    *prometheus.Registry
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (w *world) start(opts Options) *instance {
	w.t.Helper()
	in := w.prepare(opts)
	in.run()
	return in
}

// prepare builds an aggregator without running it.
func (w *world) prepare(opts Options) *instance {
	w.t.Helper()
	uri := w.mongo.URI()
	if w.storeURI != "" {
		uri = w.storeURI
	}
	mc, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(time.Second).SetTimeout(30 * time.Second))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	store, err := metricstore.Open(w.t.Context(), mc, metricstore.Options{AtomicLiveWrites: w.atomic}, w.log)
	if err != nil {
		w.t.Fatal(err)
	}
	opts.Brokers = w.brokers
	if opts.Location == nil {
		opts.Location = w.loc
	}
	if opts.AllowedLateness == 0 {
		opts.AllowedLateness, opts.CorrectionHorizon = genLateness, genCorrection
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 100 * time.Millisecond
	}
	opts.HeartbeatInterval = 200 * time.Millisecond
	if opts.Workers == 0 && runtime.GOMAXPROCS(0) < 2 {
		// The default is one per core; the tests count in parallel
		// even on one.
		opts.Workers = 2
	}
	reg := prometheus.NewRegistry()
	a, err := New(opts, store, w.log, reg)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{a: a, reg: reg, cancel: cancel, done: make(chan struct{}), ctx: ctx}
	w.t.Cleanup(in.kill)
	return in
}

func (in *instance) run() {
	go func() {
		in.err = in.a.Run(in.ctx)
		close(in.done)
	}()
}

// stop shuts the instance down gracefully (SIGTERM).
func (in *instance) stop() {
	in.cancel()
	<-in.done
}

// kill stops the instance without any further write (SIGKILL).
func (in *instance) kill() {
	in.a.crashed.Store(true)
	in.cancel()
	<-in.done
}

// waitCaughtUp waits until every partition's checkpoint reaches the end of
// raw_events.
func (w *world) waitCaughtUp(timeout time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ends, err := w.adm.ListEndOffsets(w.t.Context(), metricdoc.TopicRawEvents)
		if err != nil {
			w.t.Fatal(err)
		}
		cps := w.checkpoints()
		behind := 0
		ends.Each(func(o kadm.ListedOffset) {
			if cps[o.Partition].Offset < o.Offset {
				behind++
			}
		})
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("aggregator did not catch up within %s: checkpoints %+v, ends %+v", timeout, cps, ends)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitProgress waits until the checkpoints together cover more than n
// records, to stop an instance mid-stream after some flushes.
func (w *world) waitProgress(n int64, timeout time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var sum int64
		for _, cp := range w.checkpoints() {
			sum += cp.Offset
		}
		if sum > n {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("checkpoints cover %d records after %s, want more than %d", sum, timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) checkpoints() map[int32]metricdoc.Checkpoint {
	w.t.Helper()
	out := make(map[int32]metricdoc.Checkpoint)
	cur, err := w.db.Collection(metricdoc.CollCheckpoints).Find(w.t.Context(), bson.D{})
	if err != nil {
		return out // MongoDB may be down on purpose
	}
	var cps []metricdoc.Checkpoint
	if cur.All(w.t.Context(), &cps) != nil {
		return out
	}
	for _, cp := range cps {
		out[cp.Partition] = cp
	}
	return out
}

// stored reads the totals the way a reader would, per (window, partition):
// the final document where one exists, the live one otherwise. It also
// checks that final and live documents agree and that no final document
// was appended twice.
func (w *world) stored() map[truthKey]metricdoc.Totals {
	w.t.Helper()
	ctx := w.t.Context()
	got := make(map[truthKey]metricdoc.Totals)
	var live []metricdoc.Live
	cur, err := w.db.Collection(metricdoc.CollLive).Find(ctx, bson.D{})
	if err != nil || cur.All(ctx, &live) != nil {
		w.t.Fatal(err)
	}
	byID := make(map[string]metricdoc.Live, len(live))
	for _, d := range live {
		byID[d.ID] = d
	}
	finalIDs := make(map[string]bool)
	for _, g := range metricdoc.Granularities {
		var finals []metricdoc.Final
		cur, err := w.db.Collection(g.Collection()).Find(ctx, bson.D{})
		if err != nil || cur.All(ctx, &finals) != nil {
			w.t.Fatal(err)
		}
		first := make(map[string]metricdoc.Totals)
		for i := range finals {
			f := &finals[i]
			id := metricdoc.FinalKey(g, f)
			if t, dup := first[id]; dup {
				// Time-series semantics: a raced append can repeat a window;
				// readers count it once, so only differing copies are wrong.
				w.finalCopies++
				if t != f.Totals {
					w.t.Errorf("final %s appended twice with different totals: %+v and %+v", id, t, f.Totals)
				}
				continue
			}
			first[id] = f.Totals
			finalIDs[id] = true
			if l, ok := byID[id]; ok && l.Totals != f.Totals {
				w.t.Errorf("final %s = %+v but live = %+v", id, f.Totals, l.Totals)
			}
			k := truthKey{g, f.WindowStart.Unix(), f.Meta}
			t := got[k]
			t.Add(f.Totals)
			got[k] = t
		}
	}
	if len(finalIDs) == 0 {
		w.t.Errorf("no window was finalized into the time-series collections")
	}
	for _, d := range live {
		if finalIDs[d.ID] {
			continue
		}
		k := truthKey{d.Granularity, d.WindowStart.Unix(), d.Meta}
		t := got[k]
		t.Add(d.Totals)
		got[k] = t
	}
	return got
}

// check compares MongoDB with the truth window by window and the
// checkpointed accounting with the generator's outcomes.
func (w *world) check(tr truth) {
	w.t.Helper()
	got := w.stored()
	bad := 0
	for k, want := range tr.windows {
		if got[k] != want {
			bad++
			if bad <= 10 {
				w.t.Errorf("window %s %s %+v: stored %+v, want %+v", k.g, time.Unix(k.start, 0).UTC().Format(time.RFC3339), k.meta, got[k], want)
			}
		}
	}
	for k, g := range got {
		if _, ok := tr.windows[k]; !ok {
			bad++
			if bad <= 10 {
				w.t.Errorf("unexpected window %s %d %+v: %+v", k.g, k.start, k.meta, g)
			}
		}
	}
	if bad > 0 {
		w.t.Fatalf("%d of %d windows differ from the truth", bad, len(tr.windows))
	}
	var acc [numOutcomes]int64
	for _, cp := range w.checkpoints() {
		if sum := cp.Counted + cp.Duplicates + cp.TooLate + cp.DeadLettered + cp.Skipped; sum != cp.Offset {
			w.t.Errorf("partition %d: checkpoint offset %d, but outcomes + skipped = %d (%+v)", cp.Partition, cp.Offset, sum, cp)
		}
		if cp.TimeZone != w.loc.String() {
			w.t.Fatalf("checkpoint of partition %d records time zone %q, the aggregator runs in %q", cp.Partition, cp.TimeZone, w.loc)
		}
		acc[outCounted] += cp.Counted
		acc[outDuplicate] += cp.Duplicates
		acc[outTooLate] += cp.TooLate
		acc[outDeadLettered] += cp.DeadLettered
	}
	if want := [numOutcomes]int64{tr.counted, tr.duplicates, tr.tooLate, tr.dlq}; acc != want {
		w.t.Fatalf("checkpointed outcomes %v, want %v (counted, duplicate, too_late, dead_lettered)", acc, want)
	}
	if sum := acc[0] + acc[1] + acc[2] + acc[3]; sum != tr.n {
		w.t.Fatalf("outcomes sum to %d, produced %d", sum, tr.n)
	}
	w.t.Logf("%d windows equal the truth; produced=%d counted=%d duplicates=%d too_late=%d dead_lettered=%d",
		len(tr.windows), tr.n, acc[0], acc[1], acc[2], acc[3])
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func chunks(recs []genRecord, n int) [][]genRecord {
	var out [][]genRecord
	size := (len(recs) + n - 1) / n
	for i := 0; i < len(recs); i += size {
		out = append(out, recs[i:min(i+size, len(recs))])
	}
	return out
}

var testStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func describe(tr truth) string {
	return fmt.Sprintf("%d records, %d windows", tr.n, len(tr.windows))
}
