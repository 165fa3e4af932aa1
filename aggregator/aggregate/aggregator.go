package aggregate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sethvargo/go-retry"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
	"github.com/twmb/franz-go/plugin/kslog"

	"github.com/campaignpulse/campaignpulse/aggregator/dedupstore"
	"github.com/campaignpulse/campaignpulse/aggregator/logging"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Aggregator consumes raw_events in a consumer group and keeps the metric
// collections exact.
type Aggregator struct {
	opts  Options
	rules *rules
	store Store
	log   *slog.Logger
	m     *metrics
	cl    *kgo.Client
	adm   *kadm.Client
	// logCl produces the de-duplication changelog, partition for partition.
	logCl *kgo.Client
	state *dedupstore.Store
	// stateDir is removed on close when the aggregator created it.
	stateDir string

	// mu guards the partition states; the poll loop holds it while it
	// processes and flushes, the group callbacks while they add or drop.
	mu      sync.Mutex
	parts   map[int32]*partState
	contrib map[int32]*tally // what this process added to events_total

	dlqMu     sync.Mutex
	dlqFailed map[int32]bool
	logFailed map[int32]bool
	pubFailed map[int32]bool // partitions that lost an aggregated_metrics update

	// beforeRound, when set (tests), runs in a store round's goroutine
	// before it writes anything: a round held there writes stale state.
	beforeRound func(*storeRound)
	// afterLiveWrite, when set (tests), runs between the live-document
	// writes and the checkpoints of a flush: the spot where a crash leaves
	// documents ahead of their checkpoint.
	afterLiveWrite func()

	// abortIter cancels the poll loop's current iteration (processing and
	// flush) when a rebalance waits for it: a flush that outlives the
	// session would keep writing after the partitions moved on.
	abortIter atomic.Pointer[context.CancelFunc]
	resynced  map[int32]bool // partitions reloaded during this iteration
	// pendingReload holds the reloads a group callback found necessary;
	// the poll loop runs them (with their reason) at its next iteration.
	pendingReload map[int32]string

	// counter counts the partitions of a poll in parallel (workers.go).
	counter counter

	// round is the store round in flight (flush.go), nil when none.
	round      *storeRound
	nextExpiry time.Time

	stopping atomic.Bool // graceful: callbacks drop state without flushing
	crashed  atomic.Bool // tests: behave like kill -9
	ready    atomic.Bool
	lastErr  atomic.Pointer[error]
}

// New builds an aggregator; Run starts it. The store must be open (it has
// created the collections).
func New(opts Options, store Store, log *slog.Logger, reg prometheus.Registerer) (*Aggregator, error) {
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	a := &Aggregator{
		opts: opts, rules: opts.rules(), store: store, log: log, m: newMetrics(reg),
		parts: make(map[int32]*partState), contrib: make(map[int32]*tally), dlqFailed: make(map[int32]bool),
		logFailed: make(map[int32]bool), pubFailed: make(map[int32]bool), resynced: make(map[int32]bool), pendingReload: make(map[int32]string),
	}
	dir := opts.StateDir
	if dir == "" {
		d, err := os.MkdirTemp("", "campaignpulse-dedup-")
		if err != nil {
			return nil, fmt.Errorf("aggregate.state-dir: %w", err)
		}
		dir, a.stateDir = d, d
	}
	st, err := dedupstore.Open(dedupstore.Options{Dir: dir, HotIdentities: opts.HotIdentities, CacheBytes: opts.StateCacheBytes})
	if err != nil {
		return nil, fmt.Errorf("aggregate.state-dir: %w", err)
	}
	a.state = st
	a.counter.workers = opts.workers()
	kopts := []kgo.Opt{
		kgo.SeedBrokers(opts.Brokers...),
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(opts.Topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers come through so the checkpoint (and the
		// committed offset lag tools read) can move past a trailing one.
		kgo.KeepControlRecords(),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		// Never skip silently: an offset the retention deleted is an error
		// the poll loop reports and accounts as lost (see recover).
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.AdjustFetchOffsetsFn(a.assigned),
		kgo.OnPartitionsRevoked(a.revoked),
		kgo.OnPartitionsLost(a.lost),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) {
			if cancel := a.abortIter.Load(); cancel != nil {
				a.log.Info("rebalance waiting; aborting the current flush")
				(*cancel)()
			}
		}),
		kgo.WithLogger(kslog.New(logging.Library(log).With("component", "kafka"))),
		kgo.WithHooks(kprom.NewMetrics("campaignpulse_aggregate_kafka", kprom.Registerer(reg))),
		kgo.SessionTimeout(opts.SessionTimeout),
		kgo.HeartbeatInterval(opts.HeartbeatInterval),
		kgo.RebalanceTimeout(opts.RebalanceTimeout),
	}
	if opts.InstanceID != "" {
		kopts = append(kopts, kgo.InstanceID(opts.InstanceID))
	}
	// The changelog producer also serves the admin requests, and exists
	// before the consumer: its group callbacks use them at once.
	logCl, err := kgo.NewClient(kgo.SeedBrokers(opts.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.WithLogger(kslog.New(logging.Library(log).With("component", "kafka-changelog"))))
	if err != nil {
		a.closeState()
		return nil, fmt.Errorf("create changelog producer: %w", err)
	}
	a.logCl, a.adm = logCl, kadm.NewClient(logCl)
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		logCl.Close()
		a.closeState()
		return nil, fmt.Errorf("create kafka client: %w", err)
	}
	a.cl = cl
	return a, nil
}

func (a *Aggregator) closeState() {
	if err := a.state.Close(); err != nil {
		a.log.Warn("closing the de-duplication store failed", "err", err)
	}
	if a.stateDir != "" {
		_ = os.RemoveAll(a.stateDir)
	}
}

// Ready reports whether the aggregator owns partitions and its last flush
// succeeded.
func (a *Aggregator) Ready() error {
	if p := a.lastErr.Load(); p != nil {
		return *p
	}
	if !a.ready.Load() {
		return errors.New("no partitions assigned yet")
	}
	return nil
}

// pacing is the poll loop's flush schedule.
type pacing struct {
	paused    bool // fetching paused because store rounds fail
	backoff   retry.Backoff
	nextFlush time.Time
	nextWrite time.Time // no store round before (retry backoff)
}

// Run is the poll loop: process records, flush every FlushInterval (a
// store round starts sooner when MaxRoundWindows windows wait and none is
// in flight).
func (a *Aggregator) Run(ctx context.Context) error {
	defer func() {
		if r := recover(); r != nil {
			panic(r) // crash now: closing would wait for callbacks that need a.mu
		}
		a.counter.stop()
		a.cancelRound()
		a.cl.AllowRebalance()
		a.cl.Close()
		a.logCl.Close()
		a.closeState()
	}()
	if err := a.prepareTopics(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	pc := &pacing{backoff: newBackoff(), nextFlush: a.opts.Now().Add(a.opts.FlushInterval)}
	a.nextExpiry = a.opts.Now()
	for {
		wait := max(pc.nextFlush.Sub(a.opts.Now()), time.Millisecond)
		pollCtx, cancel := context.WithTimeout(ctx, wait)
		fetches := a.cl.PollRecords(pollCtx, a.opts.MaxPollRecords)
		cancel()
		if a.crashed.Load() {
			return nil
		}
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return a.shutdown()
		}
		iterCtx, abort := context.WithCancel(ctx)
		a.abortIter.Store(&abort)
		a.mu.Lock()
		clear(a.resynced)
		a.reloadPending(iterCtx)
		a.collectRound(iterCtx, pc)
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, kerr.OffsetOutOfRange) && topic == a.opts.Topic {
				// The retention deleted records before they were processed:
				// reload, which accounts them as lost and resumes at the log start.
				a.m.kafkaErrors.WithLabelValues("fetch").Inc()
				if err := a.resync(iterCtx, p); err != nil {
					a.log.Error("reloading a partition after an out-of-range offset failed", "partition", p, "err", err)
				}
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				a.m.kafkaErrors.WithLabelValues("fetch").Inc()
				a.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
			}
		})
		a.count(iterCtx, fetches, pc)
		if !a.opts.Now().Before(pc.nextFlush) {
			a.flushPaced(iterCtx, pc)
		}
		a.mu.Unlock()
		a.abortIter.Store(nil)
		abort()
		a.cl.AllowRebalance()
	}
}

// prepareTopics creates the changelog topic and checks the retention of
// the topics recovery needs, retrying while Kafka or raw_events is not
// there yet. A retention too short for the restore is fatal.
func (a *Aggregator) prepareTopics(ctx context.Context) error {
	backoff := newBackoff()
	for {
		err := a.ensureChangelog(ctx)
		if err == nil {
			err = a.checkRetention(ctx)
		}
		switch {
		case err == nil || ctx.Err() != nil:
			return nil
		case errors.Is(err, errRetention):
			return err
		}
		a.log.Warn("preparing the changelog topic failed; retrying", "err", err)
		d, _ := backoff.Next()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// dirtyWindows counts the windows waiting to be written.
func (a *Aggregator) dirtyWindows() int {
	n := 0
	for _, ps := range a.parts {
		n += len(ps.dirty)
	}
	return n
}

// expire gives live documents every reader has moved past an expiry and,
// where the server has no TTL or time-series expiry, deletes what expired.
func (a *Aggregator) expire(ctx context.Context) {
	if n, err := a.store.ScheduleLiveExpiry(ctx, a.opts.Topic); err != nil {
		a.log.Warn("scheduling live document expiry failed", "err", err)
	} else if n > 0 {
		a.log.Debug("live documents scheduled for expiry", "documents", n)
	}
	if n, err := a.store.Expire(ctx); err != nil {
		a.log.Warn("application-side expiry failed", "err", err)
	} else if n > 0 {
		a.log.Info("expired old documents", "deleted", n)
	}
}

func newBackoff() retry.Backoff {
	return retry.WithJitterPercent(10, retry.WithCappedDuration(5*time.Second, retry.NewExponential(100*time.Millisecond)))
}

// shutdown writes what is in memory, then leaves the group.
func (a *Aggregator) shutdown() error {
	a.stopping.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.mu.Lock()
	err := a.flushAll(ctx)
	a.mu.Unlock()
	if err != nil {
		a.log.Error("final flush failed; the next owner resumes from the last checkpoint", "err", err)
	}
	return nil
}

// source returns the source header as one of the interned constants.
func source(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == metricdoc.HeaderSource {
			switch string(h.Value) {
			case metricdoc.SourcePush:
				return metricdoc.SourcePush
			case metricdoc.SourcePull:
				return metricdoc.SourcePull
			}
			return string(h.Value)
		}
	}
	return "unknown"
}
