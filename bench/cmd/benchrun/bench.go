package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/bench/follow"
	"github.com/campaignpulse/campaignpulse/bench/load"
	"github.com/campaignpulse/campaignpulse/bench/procstat"
)

type config struct {
	brokers                     string
	binary                      string
	events                      int
	reps                        int
	partitions                  int
	cores                       int
	lateness                    time.Duration
	steady                      time.Duration
	steadyFraction              float64
	systems                     string
	work, results               string
	python, sparkJob, sparkJars string
	kstreamsCP, kstreamsClasses string
	oursCap, storeCap           time.Duration
	runTimeout                  time.Duration
	seed                        int64
	multi                       int
	exactlyOnce                 bool
	oursArgs                    string
	brokerPIDFile               string
	perf                        bool
}

func parseConfig(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&c.brokers, "brokers", "127.0.0.1:19092", "the real broker (scripts/kafka.sh)")
	fs.StringVar(&c.binary, "binary", "bin/campaignpulse", "the aggregator binary")
	fs.IntVar(&c.events, "events", 200_000, "events in the backlog each engine drains")
	fs.IntVar(&c.reps, "reps", 3, "repetitions of the throughput runs")
	fs.IntVar(&c.partitions, "partitions", 6, "partitions of raw_events and aggregated_metrics")
	fs.IntVar(&c.cores, "cores", runtime.NumCPU(), "cores given to each engine (local[N], stream threads)")
	fs.DurationVar(&c.lateness, "lateness", 2*time.Hour, "allowed lateness: our --aggregate.lateness, Spark's watermark delay, Kafka Streams' grace")
	fs.DurationVar(&c.steady, "steady", 20*time.Second, "length of each steady-load freshness run (0 = none)")
	fs.Float64Var(&c.steadyFraction, "steady-fraction", 0.5, "offered load of the freshness runs as a fraction of our measured events/s")
	fs.StringVar(&c.systems, "systems", "ours,spark,kstreams", "engines to run: ours, spark, kstreams; ours-w1 is ours counting on its poll loop alone (--aggregate.workers 1), to compare with ours in the same run")
	fs.StringVar(&c.work, "work", ".run/bench", "logs, checkpoints and state directories")
	fs.StringVar(&c.results, "results", "bench/results", "where results.json and chart.svg go")
	fs.StringVar(&c.python, "python", "bench/.venv/bin/python", "python with pyspark")
	fs.StringVar(&c.sparkJob, "spark-job", "bench/spark/windowed_counts.py", "the Spark job")
	fs.StringVar(&c.sparkJars, "spark-jars", "bench/.spark-jars", "the Kafka connector jars")
	fs.StringVar(&c.kstreamsCP, "kstreams-classpath", "bench/.kstreams/classpath.txt", "Kafka Streams runtime classpath file")
	fs.StringVar(&c.kstreamsClasses, "kstreams-classes", "bench/.kstreams/classes", "compiled Kafka Streams peer")
	fs.DurationVar(&c.oursCap, "ours-cap", 3*time.Minute, "end our throughput runs on aggregated_metrics after this long and count what was done")
	fs.DurationVar(&c.storeCap, "store-cap", 3*time.Minute, "after aggregated_metrics is complete, wait this long at most for the store's checkpoints to cover every raw_events record (the ours+store finish line)")
	fs.BoolVar(&c.perf, "perf", true, "profile our aggregator with Linux perf (when installed) during its last throughput repetition, until aggregated_metrics is complete, into <results>/ours-perf.txt")
	fs.StringVar(&c.brokerPIDFile, "broker-pid-file", "", "the broker's pid file (scripts/kafka.sh writes KAFKA_DIR/kafka.pid): its CPU is measured in every run")
	fs.DurationVar(&c.runTimeout, "run-timeout", 10*time.Minute, "give up on one engine run after this long")
	fs.Int64Var(&c.seed, "seed", 7, "simulator seed")
	fs.IntVar(&c.multi, "multi", 3, "also run this many aggregators in one group on the backlog (0 = skip)")
	fs.BoolVar(&c.exactlyOnce, "exactly-once", true, "also run Kafka Streams with exactly_once_v2 (kstreams-eos), the like-for-like peer of our exactly-once totals")
	fs.StringVar(&c.oursArgs, "ours-args", "", "extra flags for bin/campaignpulse aggregate (space separated)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, errors.Join(os.MkdirAll(c.work, 0o755), os.MkdirAll(c.results, 0o755))
}

// result is one engine run.
type result struct {
	System       string     `json:"system"`
	Kind         string     `json:"kind"` // throughput | freshness | multi
	Rep          int        `json:"rep"`
	Events       int64      `json:"events"`
	Seconds      float64    `json:"seconds"`
	EPS          float64    `json:"events_per_s"`
	CPUSeconds   float64    `json:"cpu_s"`
	CoresUsed    float64    `json:"cores_used"`
	EPSPerCore   float64    `json:"events_per_s_per_core"`
	CPUPerMEvent float64    `json:"cpu_s_per_million"`
	PeakRSSMB    float64    `json:"peak_rss_mb"`
	StoreCPU     float64    `json:"store_cpu_s,omitempty"`
	StoreRSSMB   float64    `json:"store_peak_rss_mb,omitempty"`
	BrokerCPU    float64    `json:"broker_cpu_s,omitempty"`
	HarnessCPU   float64    `json:"harness_cpu_s,omitempty"`
	MachineCPU   float64    `json:"machine_busy_cpu_s,omitempty"` // every process of the machine, others' included
	OpenWindows  float64    `json:"open_windows,omitempty"`       // ours: windows in memory at the end
	ReadyRSSMB   float64    `json:"ready_rss_mb,omitempty"`       // resident memory when it started consuming
	StoreBehind  int64      `json:"store_records_behind,omitempty"`
	Instances    []instance `json:"instances,omitempty"` // multi: one per aggregator
	Mismatched   int        `json:"mismatched_windows"`
	Offered      float64    `json:"offered_events_per_s,omitempty"`
	P50ms        float64    `json:"p50_ms,omitempty"`
	P99ms        float64    `json:"p99_ms,omitempty"`
	Maxms        float64    `json:"max_ms,omitempty"`
	Samples      int        `json:"samples,omitempty"`
	StartupS     float64    `json:"startup_s"`
	Partial      bool       `json:"partial,omitempty"` // capped: events counted within ours-cap / store-cap
}

// instance is one aggregator of a multi-instance run.
type instance struct {
	Partitions []string `json:"partitions"` // raw_events partitions it owned at the end
	Counted    float64  `json:"counted"`    // events before its partitions' checkpoints
	CPUSeconds float64  `json:"cpu_s"`
	PeakRSSMB  float64  `json:"peak_rss_mb"`
}

type bench struct {
	cfg     *config
	adm     *kadm.Client
	cl      *kgo.Client
	store   *storeProc // the current run's
	stores  int        // started so far
	backlog *load.Backlog
	rawEnds map[int32]int64   // end offsets of raw_events after the backlog
	broker  *procstat.Sampler // nil when the broker's pid is not known
	results []result
}

func runBench(ctx context.Context, args []string) error {
	cfg, err := parseConfig(args)
	if err != nil {
		return err
	}
	began := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(cfg.brokers, ",")...),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(2*time.Millisecond),
		kgo.MaxBufferedRecords(200_000))
	if err != nil {
		return err
	}
	defer cl.Close()
	b := &bench{cfg: cfg, cl: cl, adm: kadm.NewClient(cl)}
	defer b.stopStore()

	fmt.Printf("bench: %d events x %d reps, %d partitions, %d cores per engine, lateness %s, broker %s\n",
		cfg.events, cfg.reps, cfg.partitions, cfg.cores, cfg.lateness, cfg.brokers)
	t := time.Now()
	b.backlog, err = load.Generate(cfg.events, load.Options{Seed: cfg.seed, Rate: 100, Start: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return err
	}
	fmt.Printf("bench: generated %d events (%.0f B average) from the simulator in %s\n",
		cfg.events, float64(b.backlog.Bytes)/float64(cfg.events), since(t))
	if err := b.resetTopics(ctx); err != nil {
		return err
	}
	t = time.Now()
	if _, err := load.Produce(ctx, cl, metricdoc.TopicRawEvents, b.backlog.Records); err != nil {
		return err
	}
	fmt.Printf("bench: wrote them to raw_events in %s\n", since(t))
	if b.rawEnds, err = b.endOffsets(ctx, metricdoc.TopicRawEvents); err != nil {
		return err
	}
	if cfg.brokerPIDFile != "" {
		buf, err := os.ReadFile(cfg.brokerPIDFile)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(buf)))
		if err != nil || perr != nil {
			return fmt.Errorf("broker pid file %s: %w", cfg.brokerPIDFile, errors.Join(err, perr))
		}
		b.broker = procstat.Start(pid, time.Second)
		defer b.broker.Stop()
	}

	var systems []string
	for _, s := range strings.Split(cfg.systems, ",") {
		systems = append(systems, s)
		if s == "kstreams" && cfg.exactlyOnce {
			systems = append(systems, "kstreams-eos")
		}
	}
	// Repetitions interleave the engines, so that a change in the shared
	// machine's load hits them alike.
	for rep := 1; rep <= cfg.reps; rep++ {
		for _, s := range systems {
			if err := b.throughput(ctx, s, rep); err != nil {
				if ctx.Err() != nil {
					return err
				}
				fmt.Printf("bench: %s rep %d failed: %v\n", s, rep, err)
			}
		}
	}
	if cfg.multi > 1 {
		if err := b.multiRun(ctx); err != nil {
			fmt.Printf("bench: multi-instance run failed: %v\n", err)
		}
	}
	if cfg.steady > 0 {
		rate := cfg.steadyFraction * b.median("ours", "throughput", func(r result) float64 { return r.EPS })
		if rate <= 0 {
			rate = 10_000
		}
		for _, s := range systems {
			if err := b.freshness(ctx, s, rate); err != nil {
				if ctx.Err() != nil {
					return err
				}
				fmt.Printf("bench: %s freshness failed: %v\n", s, err)
			}
		}
	}
	if err := b.write(); err != nil {
		return err
	}
	fmt.Printf("bench: finished in %s (machine: %d cores, shared)\n", since(began), runtime.NumCPU())
	b.summary()
	return nil
}

// resetTopics deletes every topic but the broker's own (earlier runs' raw
// events, outputs, changelogs, Kafka Streams' internal topics) and creates
// raw_events, raw_events_dlq and aggregated_metrics empty with the
// configured partitions.
func (b *bench) resetTopics(ctx context.Context) error {
	all, err := b.adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	var names []string
	for _, t := range all.Names() {
		if !strings.HasPrefix(t, "__") {
			names = append(names, t)
		}
	}
	if len(names) > 0 {
		if _, err := b.adm.DeleteTopics(ctx, names...); err != nil {
			return fmt.Errorf("delete topics: %w", err)
		}
	}
	topics := []string{metricdoc.TopicRawEvents, metricdoc.TopicDLQ, metricdoc.TopicAggregated}
	deadline := time.Now().Add(time.Minute)
	for {
		md, err := b.adm.ListTopics(ctx, names...)
		left := 0
		for _, d := range md {
			if d.Err == nil {
				left++
			}
		}
		if err == nil && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("topics still listed a minute after their deletion")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err := b.adm.CreateTopics(ctx, int32(b.cfg.partitions), 1, map[string]*string{"retention.ms": ptr("86400000")}, topics...)
		if err == nil {
			err = resp.Error()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("create topics: %w", err)
		}
		time.Sleep(500 * time.Millisecond) // deletion still settling
	}
}

func ptr[T any](v T) *T { return &v }

// endOffsets returns the end offset of every partition of topic, waiting
// for the leaders of a just-created topic.
func (b *bench) endOffsets(ctx context.Context, topic string) (map[int32]int64, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := map[int32]int64{}
		ends, err := b.adm.ListEndOffsets(ctx, topic)
		if err == nil {
			ends.Each(func(o kadm.ListedOffset) {
				if o.Err == nil && o.Partition >= 0 {
					out[o.Partition] = o.Offset
				}
			})
			if len(out) == b.cfg.partitions {
				return out, nil
			}
			err = fmt.Errorf("%d of %d partitions answered", len(out), b.cfg.partitions)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// storeProc is the MongoDB-protocol server process the aggregator writes
// to: the embedded store of make run (FerretDB on SQLite), in its own
// process so its CPU and memory are reported apart from the aggregator's.
type storeProc struct {
	p   *proc
	s   *procstat.Sampler
	uri string
}

// newStore starts an empty store for one run of ours, after stopping the
// previous run's. A fresh process per run: every run starts from the same
// empty store, and one run's aborted writes (the aggregator stopped while
// a store round was in flight) cannot leave the next one a store stuck on
// their locks.
func (b *bench) newStore(ctx context.Context) (*storeProc, error) {
	b.stopStore()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.cfg.work, "store")
	_ = os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b.stores++
	p, err := startProc("store", filepath.Join(b.cfg.work, fmt.Sprintf("store-%d.log", b.stores)), nil, "store: ready", self, "store",
		"--dir", dir, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := p.waitReady(rctx); err != nil {
		p.stop(5 * time.Second)
		return nil, err
	}
	b.store = &storeProc{p: p, s: procstat.Start(p.pid(), 200*time.Millisecond), uri: fmt.Sprintf("mongodb://127.0.0.1:%d/", port)}
	return b.store, nil
}

func (b *bench) stopStore() {
	if b.store != nil {
		b.store.s.Stop()
		b.store.p.stop(10 * time.Second)
		b.store = nil
	}
}

// storeOf returns the store an engine writes to (nil for the peers).
func (b *bench) storeOf(system string) *storeProc {
	if strings.HasPrefix(system, "ours") {
		return b.store
	}
	return nil
}

func (b *bench) engine(ctx context.Context, system string) (engine, error) {
	switch system {
	case "ours", "ours-w1":
		st, err := b.newStore(ctx)
		if err != nil {
			return nil, err
		}
		extra := append([]string{"--aggregate.lateness", b.cfg.lateness.String()}, strings.Fields(b.cfg.oursArgs)...)
		if system == "ours-w1" {
			extra = append(extra, "--aggregate.workers", "1")
		}
		return &ours{cfg: b.cfg, mongoURI: st.uri, extra: extra}, nil
	case "spark":
		return &spark{cfg: b.cfg}, nil
	case "kstreams":
		return &kstreams{cfg: b.cfg, guarantee: "at_least_once"}, nil
	case "kstreams-eos":
		return &kstreams{cfg: b.cfg, guarantee: "exactly_once_v2"}, nil
	}
	return nil, fmt.Errorf("unknown system %q", system)
}

// throughput lets one engine drain the backlog from a fresh start and
// measures from its ready signal until the updates on aggregated_metrics
// account for every event. For ours the same run has a second finish line,
// reported as ours+store: the moment the store's checkpoints cover every
// raw_events record (the live documents are written before them).
func (b *bench) throughput(ctx context.Context, system string, rep int) error {
	e, err := b.engine(ctx, system)
	if err != nil {
		return err
	}
	run := fmt.Sprintf("%s-r%d-%d", system, rep, time.Now().Unix())
	f, err := b.follow(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	launched := time.Now()
	st := b.storeOf(system)
	if st != nil {
		st.s.ResetPeak()
	}
	p, s, err := b.launch(e, run)
	if err != nil {
		return err
	}
	defer p.stop(30 * time.Second)
	defer s.Stop()
	rctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
	defer cancel()
	t0, err := p.waitReady(rctx)
	if err != nil {
		return err
	}
	m := b.startMeter(st, s)
	readyRSS := float64(procstat.RSS(p.pid())) / (1 << 20)
	var sw *storeWatch
	if st != nil {
		sw = b.watchStore(rctx, st.uri, dbName(run), m, b.cfg.oursCap+b.cfg.storeCap)
	}
	var prof *perfRecord
	if system == "ours" && rep == b.cfg.reps && b.cfg.perf {
		if prof, err = startPerf(p.pid(), filepath.Join(b.cfg.work, "ours.perf.data"), filepath.Join(b.cfg.work, "perf.log")); err != nil {
			fmt.Printf("bench: no profile of ours: %v\n", err)
		}
	}
	n := int64(b.cfg.events)
	wctx := rctx
	if st != nil && b.cfg.oursCap > 0 {
		var wcancel context.CancelFunc
		wctx, wcancel = context.WithTimeout(rctx, b.cfg.oursCap)
		defer wcancel()
	}
	partial := false
	tEnd, err := f.WaitCounted(wctx, n)
	if err != nil && wctx != rctx && rctx.Err() == nil {
		// Capped: what the updates account for so far, over the cap.
		partial, tEnd = true, time.Now()
		n, _ = f.Counted()
		err = nil
	}
	if err != nil {
		return fmt.Errorf("%w (log %s)", err, p.log.Name())
	}
	u := m.read()
	if prof != nil {
		if err := prof.stop(); err != nil {
			fmt.Printf("bench: no profile of ours: %v\n", err)
			prof = nil
		}
	}
	var windows float64
	if st != nil {
		windows, _ = metricSum(p.httpPort, seriesWindowsOpen, "", "")
	}
	time.Sleep(300 * time.Millisecond) // late repeats of an update would not change totals; let them land
	r := result{System: system, Kind: "throughput", Rep: rep, Events: n, StartupS: t0.Sub(launched).Seconds()}
	r.Seconds = tEnd.Sub(t0).Seconds()
	u.set(&r)
	r.fill()
	r.PeakRSSMB = float64(s.PeakRSS()) / (1 << 20)
	r.OpenWindows = windows
	r.ReadyRSSMB = readyRSS
	if partial {
		r.Mismatched = -1 // not comparable: the run was cut short
		r.Partial = true
	} else {
		r.Mismatched = f.Mismatches(b.backlog.Truth)
	}
	if st != nil {
		r.StoreRSSMB = float64(st.s.PeakRSS()) / (1 << 20)
	}
	b.results = append(b.results, r)
	fmt.Printf("bench: %-12s rep %d: %9.0f events/s  %5.2f cores  %8.0f events/s/core  %6.2f CPU-s/M  rss %6.0f MB  startup %4.1fs  mismatched_windows=%d%s%s\n",
		system, rep, r.EPS, r.CoresUsed, r.EPSPerCore, r.CPUPerMEvent, r.PeakRSSMB, r.StartupS, r.Mismatched, r.windowsNote(), r.storeNote()+r.partialNote())
	fmt.Println(r.cpuNote(runtime.NumCPU()))
	if st == nil {
		return nil
	}
	rs := b.storeFinish(r, t0, sw, func() float64 { return float64(s.PeakRSS()) / (1 << 20) }, st)
	fmt.Printf("bench: %-12s rep %d: %9.0f events/s  %5.2f cores  %8.0f events/s/core  %6.2f CPU-s/M  rss %6.0f MB  store counted %d of %d%s%s\n",
		rs.System, rep, rs.EPS, rs.CoresUsed, rs.EPSPerCore, rs.CPUPerMEvent, rs.PeakRSSMB, rs.Events, b.cfg.events, rs.storeNote(), rs.partialNote())
	fmt.Println(rs.cpuNote(runtime.NumCPU()))
	if prof != nil {
		report := filepath.Join(b.cfg.results, "ours-perf.txt")
		if err := prof.report(report); err != nil {
			fmt.Printf("bench: no profile of ours: %v\n", err)
		} else {
			fmt.Printf("bench: profile of ours from its start of consumption until aggregated_metrics was complete: %s\n", report)
		}
	}
	return nil
}

// storeFinish waits for the store watch of the run whose aggregated_metrics
// finish line is first and records its second finish line as
// <system>+store.
func (b *bench) storeFinish(first result, t0 time.Time, w *storeWatch, rss func() float64, st *storeProc) result {
	<-w.done
	if w.err != nil {
		fmt.Printf("bench: %s: store progress: %v\n", first.System, w.err)
	}
	r := result{System: first.System + "+store", Kind: first.Kind, Rep: first.Rep, Events: w.prog.counted, StartupS: first.StartupS,
		Seconds: w.at.Sub(t0).Seconds(), Mismatched: first.Mismatched, StoreBehind: w.prog.behind}
	w.use.set(&r)
	r.fill()
	r.PeakRSSMB = rss()
	r.StoreRSSMB = float64(st.s.PeakRSS()) / (1 << 20)
	if !w.prog.caughtUp || w.prog.counted != int64(b.cfg.events) {
		r.Partial, r.Mismatched = true, -1
	}
	b.results = append(b.results, r)
	return r
}

// follow starts a follower of aggregated_metrics at its current end; it
// stops with Close.
func (b *bench) follow(ctx context.Context) (*follow.Follower, error) {
	start, err := b.endOffsets(ctx, metricdoc.TopicAggregated)
	if err != nil {
		return nil, err
	}
	return follow.Start(ctx, strings.Split(b.cfg.brokers, ","), metricdoc.TopicAggregated, start)
}

// launch starts one engine process of run and samples it.
func (b *bench) launch(e engine, run string) (*proc, *procstat.Sampler, error) {
	p, err := e.start(run)
	if err != nil {
		return nil, nil, err
	}
	return p, procstat.Start(p.pid(), 100*time.Millisecond), nil
}

func (r *result) fill() {
	if r.Seconds > 0 {
		r.EPS = float64(r.Events) / r.Seconds
		r.CoresUsed = r.CPUSeconds / r.Seconds
	}
	if r.CPUSeconds > 0 && r.Events > 0 {
		r.EPSPerCore = float64(r.Events) / r.CPUSeconds
		r.CPUPerMEvent = r.CPUSeconds / float64(r.Events) * 1e6
	}
}

func (r *result) partialNote() string {
	switch {
	case !r.Partial:
		return ""
	case r.StoreBehind > 0:
		return fmt.Sprintf("  (capped: the store's checkpoints still %d records behind after %.0fs)", r.StoreBehind, r.Seconds)
	}
	return fmt.Sprintf("  (capped: %d events counted in %.0fs)", r.Events, r.Seconds)
}

func (r *result) windowsNote() string {
	if r.OpenWindows == 0 {
		return ""
	}
	return fmt.Sprintf("  windows_open=%.0f", r.OpenWindows)
}

func (r *result) storeNote() string {
	if r.StoreCPU == 0 {
		return ""
	}
	return fmt.Sprintf("  (store: %.1f CPU-s, rss %.0f MB)", r.StoreCPU, r.StoreRSSMB)
}

// freshness runs one engine under a steady offered load on empty topics:
// for every event appended after a warm-up, the time until an update on
// aggregated_metrics includes it.
func (b *bench) freshness(ctx context.Context, system string, rate float64) error {
	if err := b.resetTopics(ctx); err != nil {
		return err
	}
	e, err := b.engine(ctx, system)
	if err != nil {
		return err
	}
	run := fmt.Sprintf("%s-fresh-%d", system, time.Now().Unix())
	f, err := b.follow(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	p, s, err := b.launch(e, run)
	if err != nil {
		return err
	}
	defer p.stop(30 * time.Second)
	defer s.Stop()
	rctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
	defer cancel()
	if _, err := p.waitReady(rctx); err != nil {
		return err
	}
	if err := p.waitWarm(rctx); err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // group settling
	warm := 5 * time.Second
	f.SampleFrom(time.Now().Add(warm))
	m := b.startMeter(b.storeOf(system), s)
	t0 := time.Now()
	// A new producer: the recreated topics have new ids.
	pcl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(b.cfg.brokers, ",")...), kgo.ProducerLinger(0))
	if err != nil {
		return err
	}
	defer pcl.Close()
	acked, err := load.Steady(rctx, pcl, metricdoc.TopicRawEvents, b.backlog, rate, b.cfg.steady, func(a load.Appended) { f.Appended(a.Window, a.At) })
	if err != nil {
		return err
	}
	sent := time.Since(t0)
	u := m.read() // CPU while the load was offered
	// Give the engine 10 s to include the last events; whatever is still
	// missing then counts with its age at that moment.
	wctx, wcancel := context.WithTimeout(rctx, 10*time.Second)
	_, _ = f.WaitCounted(wctx, acked)
	wcancel()
	hourCount, _ := f.Counted()
	p50, p99, mx, n := f.Freshness(time.Now())
	consumed := ""
	if p.httpPort != 0 {
		counted, err1 := metricSum(p.httpPort, seriesEvents, "outcome", "counted")
		lag, err2 := metricSum(p.httpPort, seriesLag, "", "")
		if err1 == nil && err2 == nil {
			consumed = fmt.Sprintf(", aggregator: %.0f counted, lag %.0f records", counted, lag)
		}
	}
	r := result{System: system, Kind: "freshness", Events: acked, Seconds: sent.Seconds(), Offered: rate,
		P50ms: ms(p50), P99ms: ms(p99), Maxms: ms(mx), Samples: n, PeakRSSMB: float64(s.PeakRSS()) / (1 << 20)}
	u.set(&r)
	r.fill()
	b.results = append(b.results, r)
	over := ""
	if max := b.median(system, "throughput", func(r result) float64 { return r.EPS }); max > 0 && rate > max {
		over = fmt.Sprintf("; offered above its measured max of %.0f events/s: its backlog grows", max)
	}
	fmt.Printf("bench: %-12s steady %.0f events/s offered (%.0f appended/s) for %s: p50 %.0f ms  p99 %.0f ms  max %.0f ms  (%d samples, %d of %d appended events in updates, %.2f cores%s%s)\n",
		system, rate, r.EPS, b.cfg.steady, r.P50ms, r.P99ms, r.Maxms, n, hourCount, acked, r.CoresUsed, consumed, over)
	fmt.Println(r.cpuNote(runtime.NumCPU()))
	return nil
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median of f over the results of one system and kind.
func (b *bench) median(system, kind string, f func(result) float64) float64 {
	var xs []float64
	for _, r := range b.results {
		if r.System == system && r.Kind == kind {
			xs = append(xs, f(r))
		}
	}
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	if len(xs)%2 == 0 {
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return xs[len(xs)/2]
}

func (b *bench) write() error {
	if err := os.MkdirAll(b.cfg.results, 0o755); err != nil {
		return err
	}
	host, _ := os.Hostname()
	doc := map[string]any{
		"when": time.Now().UTC().Format(time.RFC3339), "host": host, "cores": runtime.NumCPU(),
		"events": b.cfg.events, "reps": b.cfg.reps, "partitions": b.cfg.partitions, "multi": b.cfg.multi, "results": b.results,
	}
	buf, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.cfg.results, "results.json"), buf, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.cfg.results, "chart.svg"), chart(b), 0o644)
}

// summary prints the per-engine medians, the comparisons the bench is for,
// and the bench's last line.
func (b *bench) summary() {
	med := func(s, k string, f func(result) float64) float64 { return b.median(s, k, f) }
	eps := func(r result) float64 { return r.EPS }
	pc := func(r result) float64 { return r.EPSPerCore }
	multi := fmt.Sprintf("ours-x%d", b.cfg.multi)
	kindOf := func(s string) string {
		if strings.HasPrefix(s, multi) {
			return "multi"
		}
		return "throughput"
	}
	fmt.Println("bench: medians over the repetitions (throughput: backlog drained from a fresh start; freshness: steady offered load)")
	fmt.Printf("bench: %-14s %10s %14s %10s %8s %10s %8s %8s\n", "engine", "events/s", "events/s/core", "CPU-s/M", "cores", "rss MB", "p50 ms", "p99 ms")
	for _, s := range []string{"ours", "ours+store", "ours-w1", "ours-w1+store", "spark", "kstreams", "kstreams-eos", multi, multi + "+store"} {
		k := kindOf(s)
		if med(s, k, eps) == 0 && med(s, "freshness", func(r result) float64 { return r.P99ms }) == 0 {
			continue
		}
		fmt.Printf("bench: %-14s %10.0f %14.0f %10.2f %8.2f %10.0f %8.0f %8.0f\n", s,
			med(s, k, eps), med(s, k, pc),
			med(s, k, func(r result) float64 { return r.CPUPerMEvent }),
			med(s, k, func(r result) float64 { return r.CoresUsed }),
			med(s, k, func(r result) float64 { return r.PeakRSSMB }),
			med(s, "freshness", func(r result) float64 { return r.P50ms }),
			med(s, "freshness", func(r result) float64 { return r.P99ms }))
	}
	op, spp, kp, kep := med("ours", "throughput", pc), med("spark", "throughput", pc), med("kstreams", "throughput", pc), med("kstreams-eos", "throughput", pc)
	fmt.Printf("bench: per core of engine CPU: ours=%.0f spark=%.0f kstreams=%.0f kstreams-eos=%.0f events/s/core; ours/spark=%.1f ours/kstreams=%.1f ours/kstreams-eos=%.1f\n",
		op, spp, kp, kep, div(op, spp), div(op, kp), div(op, kep))
	o, sp, k, ke := med("ours", "throughput", eps), med("spark", "throughput", eps), med("kstreams", "throughput", eps), med("kstreams-eos", "throughput", eps)
	if ke > 0 {
		fmt.Printf("bench: vs Kafka Streams, like for like (exactly_once_v2; ours is exactly-once): ours/kstreams-eos=%.1f events/s, %.1f per core; vs at_least_once: ours/kstreams=%.1f events/s, %.1f per core\n",
			div(o, ke), div(op, kep), div(o, k), div(op, kp))
	}
	if o1 := med("ours-w1", "throughput", eps); o1 > 0 {
		cores := func(r result) float64 { return r.CoresUsed }
		fmt.Printf("bench: workers: ours (one per core) %.0f events/s on %.2f cores, ours-w1 (one) %.0f events/s on %.2f cores: x%.2f events/s, x%.2f events/s per core\n",
			o, med("ours", "throughput", cores), o1, med("ours-w1", "throughput", cores), div(o, o1), div(op, med("ours-w1", "throughput", pc)))
	}
	if ost := med("ours+store", "throughput", eps); ost > 0 {
		fmt.Printf("bench: ours+store (until the store's checkpoints cover every record): %.0f events/s, ours+store/spark=%.1f ours+store/kstreams-eos=%.1f\n", ost, div(ost, sp), div(ost, ke))
	}
	if mo := med(multi, "multi", eps); mo > 0 && o > 0 {
		oc, mc := med("ours", "throughput", func(r result) float64 { return r.CoresUsed }), med(multi, "multi", func(r result) float64 { return r.CoresUsed })
		fmt.Printf("bench: scaling: 1 aggregator %.0f events/s on %.2f cores, %d in one group %.0f events/s on %.2f cores: x%.2f events/s, x%.2f events/s per core (machine: %d cores)\n",
			o, oc, b.cfg.multi, mo, mc, div(mo, o), div(med(multi, "multi", pc), op), runtime.NumCPU())
	}
	if w := med("ours", "throughput", func(r result) float64 { return r.OpenWindows }); w > 0 {
		rss := med("ours", "throughput", func(r result) float64 { return r.PeakRSSMB })
		ready := med("ours", "throughput", func(r result) float64 { return r.ReadyRSSMB })
		fmt.Printf("bench: memory: ours peak RSS %.0f MB (%.0f MB when it started consuming) with %.0f windows open at the end: %.0f MB per 100k open windows above the start (an upper bound: de-duplication identities and fetch buffers grow too)\n",
			rss, ready, w, (rss-ready)/w*100_000)
	}
	fmt.Printf("bench: ours_eps=%.0f spark_eps=%.0f ratio=%.1f ours_p99_ms=%.0f spark_p99_ms=%.0f ours_rss_mb=%.0f kstreams_eps=%.0f\n",
		o, sp, div(o, sp), med("ours", "freshness", func(r result) float64 { return r.P99ms }),
		med("spark", "freshness", func(r result) float64 { return r.P99ms }),
		med("ours", "throughput", func(r result) float64 { return r.PeakRSSMB }), k)
}
