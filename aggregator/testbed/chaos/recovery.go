package chaos

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/freeport"
)

// RecoveryOptions configures the restore measurement: one aggregator
// consumes the feed, is SIGKILLed mid-stream, and a new one takes over.
type RecoveryOptions struct {
	// Binary is the campaignpulse executable. Required.
	Binary string
	// Brokers of the Kafka cluster (an Apache Kafka broker for the
	// measurement). Required.
	Brokers []string
	// Events is the number of deliveries. Default 1,000,000 (about 1.4 h of
	// event time at the feed's 200 events/s).
	Events int
	// KillAt is the share of the events the first aggregator has
	// checkpointed when it is killed. Default 0.8.
	KillAt float64
	// Dir holds FerretDB's files and the logs. Default: a new temp dir.
	Dir  string
	Seed int64
	Log  *slog.Logger
}

// RecoveryResult is what the measurement found.
type RecoveryResult struct {
	Events int64
	// RestoreSeconds is the restarted aggregator's time spent restoring
	// its de-duplication sets (sum over partitions).
	RestoreSeconds float64
	// RestoreReadBytes is what the restart read to restore (changelog,
	// plus raw_events if any partition had to replay).
	RestoreReadBytes int64
	// RawReplayBytes is what a replay of raw_events from the start of the
	// horizon to the checkpoints reads (all records below them here: the
	// feed's event times are within the horizon).
	RawReplayBytes int64
	Mismatches     []Mismatch
	Accounting     Accounting
	Dir            string
}

// Summary is the last line of `make bench-recovery`.
func (r *RecoveryResult) Summary() string {
	return fmt.Sprintf("recovery: events=%d restore_s=%.2f restore_read_mb=%d raw_replay_mb=%d mismatched_windows=%d",
		r.Events, r.RestoreSeconds, r.RestoreReadBytes>>20, r.RawReplayBytes>>20, len(r.Mismatches))
}

// FlagKillAt names RecoveryOptions.KillAt.
const FlagKillAt = "kill-at"

// RegisterFlags registers the settings of a recovery measurement; the
// defaults written here are the only ones. An empty broker list makes the
// command start its own broker.
func (o *RecoveryOptions) RegisterFlags(fs *flag.FlagSet) {
	settings.List(fs, &o.Brokers, metricdoc.FlagBrokers, nil, "an existing Kafka cluster (comma-separated); empty starts a broker with scripts/kafka.sh")
	fs.StringVar(&o.Binary, FlagBinary, "bin/campaignpulse", "the campaignpulse executable under test")
	fs.StringVar(&o.Dir, FlagDir, "", "work directory for FerretDB files and aggregator logs (default: a temp dir)")
	fs.IntVar(&o.Events, FlagEvents, 1_000_000, "deliveries fed to raw_events")
	fs.Float64Var(&o.KillAt, FlagKillAt, 0.8, "share of the events checkpointed when the aggregator is killed")
	fs.Int64Var(&o.Seed, FlagSeed, 1, "seed of the feed")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o RecoveryOptions) WithDefaults() RecoveryOptions {
	o = settings.WithDefaults(o, (*RecoveryOptions).RegisterFlags)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o *RecoveryOptions) validate() error {
	if o.Binary == "" {
		return fmt.Errorf("recovery: %s: path to the campaignpulse executable is required", FlagBinary)
	}
	if len(o.Brokers) == 0 {
		return fmt.Errorf("recovery: %s: the Kafka cluster to measure on is required", metricdoc.FlagBrokers)
	}
	if o.KillAt <= 0 || o.KillAt >= 1 {
		return fmt.Errorf("recovery: %s %v: must be between 0 and 1", FlagKillAt, o.KillAt)
	}
	return nil
}

// Recovery runs the measurement.
func Recovery(ctx context.Context, o RecoveryOptions) (*RecoveryResult, error) {
	o = o.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	log := o.Log
	if err := workDir(&o.Dir, "recovery"); err != nil {
		return nil, err
	}
	res := &RecoveryResult{Dir: o.Dir}

	store, err := embedded.StartMongo(ctx, filepath.Join(o.Dir, "mongo"), "", log)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	pubOpts := publish.Options{Brokers: o.Brokers}.WithDefaults()
	cl, err := freshRawEvents(ctx, pubOpts, "recovery", log)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	log.Info("recovery: generating the feed", "events", o.Events)
	f, err := newFeed(o.Seed, o.Events, time.UTC)
	if err != nil {
		return nil, err
	}
	args := func(httpAddr string) []string {
		return []string{
			"--kafka.brokers", strings.Join(o.Brokers, ","),
			"--mongo.uri", store.URI(), "--mongo.database", database,
			"--http.addr", httpAddr, "--kafka.instance-id", "recovery",
			"--kafka.session-timeout", "6s", "--kafka.heartbeat-interval", "500ms",
			// FerretDB rewrites each dirty window in milliseconds: fewer,
			// larger flushes keep the stand-in from being what is measured.
			"--aggregate.flush-interval", "10s",
		}
	}
	first, err := startAggregator(o.Binary, o.Dir, 0, args("127.0.0.1:0"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if _, done := first.exited(); !done {
			first.kill()
		}
	}()
	log.Info("recovery: producing", "events", len(f.records))
	if res.Events, err = f.produce(ctx, cl, 0); err != nil {
		return nil, err
	}
	mc, err := mongo.Connect(options.Client().ApplyURI(store.URI()))
	if err != nil {
		return nil, err
	}
	defer func() { _ = mc.Disconnect(context.Background()) }()
	db := mc.Database(database)
	killAt := int64(float64(res.Events) * o.KillAt)
	if err := waitCaughtUp(ctx, db, killAt, 3*time.Minute, 30*time.Minute); err != nil {
		return nil, err
	}
	first.kill()
	stored, err := ReadStored(ctx, db)
	if err != nil {
		return nil, err
	}
	log.Info("recovery: killed the aggregator", "checkpointed", stored.Accounting.Processed, "of", res.Events)
	if res.RawReplayBytes, err = rawBytesBelow(ctx, o.Brokers, stored.Offsets); err != nil {
		return nil, err
	}

	httpAddr, err := freeport.Addr()
	if err != nil {
		return nil, err
	}
	second, err := startAggregator(o.Binary, o.Dir, 1, args(httpAddr))
	if err != nil {
		return nil, err
	}
	defer func() {
		if _, done := second.exited(); !done {
			second.kill()
		}
	}()
	if err := waitCaughtUp(ctx, db, res.Events, 3*time.Minute, 30*time.Minute); err != nil {
		return nil, err
	}
	// Caught up can be true at once (the first one had checkpointed
	// everything): wait until the new one owns, so has restored, every
	// checkpointed partition.
	var m map[string]float64
	for deadline := time.Now().Add(10 * time.Minute); ; {
		if m, err = scrape(ctx, "http://"+httpAddr+"/metrics"); err == nil && owned(m) >= len(stored.Offsets) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the restarted aggregator owns %d of %d partitions after 10m (last scrape error: %v)", owned(m), len(stored.Offsets), err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	res.RestoreSeconds = m["campaignpulse_aggregate_restore_duration_seconds_sum"]
	res.RestoreReadBytes = int64(m[`campaignpulse_aggregate_restore_read_bytes_total{source="changelog"}`] +
		m[`campaignpulse_aggregate_restore_read_bytes_total{source="raw_events"}`])
	if err := second.stop(30 * time.Second); err != nil {
		return nil, err
	}
	if stored, err = ReadStored(ctx, db); err != nil {
		return nil, err
	}
	res.Accounting = stored.Accounting
	res.Mismatches = Compare(f.truth, stored)
	return res, nil
}

// rawBytesBelow reads raw_events up to the given offsets and sums the
// bytes of the records (key, value, headers): what a replay reads.
func rawBytesBelow(ctx context.Context, brokers []string, upTo map[int32]int64) (int64, error) {
	start := map[int32]kgo.Offset{}
	for p, off := range upTo {
		if off > 0 {
			start[p] = kgo.NewOffset().AtStart()
		}
	}
	if len(start) == 0 {
		return 0, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{metricdoc.TopicRawEvents: start}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return 0, fmt.Errorf("raw_events reader: %w", err)
	}
	defer cl.Close()
	var total int64
	left := len(start)
	done := map[int32]bool{}
	for left > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		fs.EachRecord(func(r *kgo.Record) {
			if done[r.Partition] || r.Offset >= upTo[r.Partition] {
				return
			}
			total += int64(len(r.Key) + len(r.Value))
			for _, h := range r.Headers {
				total += int64(len(h.Key) + len(h.Value))
			}
			if r.Offset+1 >= upTo[r.Partition] {
				done[r.Partition] = true
				left--
			}
		})
	}
	return total, nil
}

// owned counts the partitions whose watermark gauge the aggregator
// publishes: it sets it when a partition is installed after its restore.
func owned(m map[string]float64) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, "campaignpulse_aggregate_watermark_seconds{") {
			n++
		}
	}
	return n
}

// scrape reads a Prometheus text page into name{labels} -> value.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}
