// Command benchfreshness measures how long a pushed event takes to show in
// Grafana: the whole pipeline in one process (push receiver and pull poller,
// aggregator, FerretDB, the plugin's datasource), on Apache Kafka
// (scripts/kafka.sh) or, with --embedded, on kfake. It pushes a steady load
// through the real receiver while the poller downloads one large report that
// the simulated AppsFlyer serves slowly, and for every pushed event measures
// the time from its 2xx to the first QueryData answer and the first live
// stream frame that include it. The last line is
//
//	freshness: p50_ms=<n> p99_ms=<n> max_ms=<n> during_pull_p99_ms=<n> stream_p99_ms=<n>
//
// Events are grouped into buckets of 100 ms of pushes; the buckets take
// turns among 50 campaigns, a realistic number of campaigns for one app. A
// bucket is shown once a query's count for its campaign covers every
// acknowledged event of it and of the campaign's earlier buckets, plus
// every event already sent for the campaign's later buckets (which the
// count may include). That time is taken for each of its events, so an
// event is never reported earlier than it was shown, at the cost of
// reporting some a little late.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/campaignpulse/campaignpulse/aggregator/aggregate"
	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

type config struct {
	embedded   bool
	rate       float64
	duration   time.Duration
	pullRows   int
	pullServe  time.Duration
	workers    int
	aggWorkers int
	queryEvery time.Duration
	dir        string
	cpuProfile string
	mongoURI   string
	pullTxRecs int
}

func main() {
	var c config
	fs := flag.NewFlagSet("benchfreshness", flag.ExitOnError)
	fs.BoolVar(&c.embedded, "embedded", false, "run on make run's embedded stack (kfake + FerretDB) instead of Apache Kafka")
	fs.Float64Var(&c.rate, "rate", 0, "pushed events per second; default 2000, or 200 (make run's rate) with --embedded")
	fs.DurationVar(&c.duration, "duration", 2*time.Minute, "how long the push load runs")
	fs.IntVar(&c.pullRows, "pull-rows", 200000, "rows of the report pulled during the load (at least)")
	fs.DurationVar(&c.pullServe, "pull-serve", 60*time.Second, "how long the simulated AppsFlyer takes to send that report")
	fs.IntVar(&c.workers, "workers", 256, "concurrent push connections")
	fs.IntVar(&c.aggWorkers, "aggregate-workers", 0, "the aggregator's --"+aggregate.FlagWorkers+" (0 = its default, one per core)")
	fs.DurationVar(&c.queryEvery, "query-every", 100*time.Millisecond, "pause between two QueryData polls")
	fs.StringVar(&c.dir, "dir", "", "working directory (FerretDB files, broker); default a new temporary directory")
	fs.StringVar(&c.mongoURI, "mongo-uri", "", "MongoDB to store into (database campaignpulse, which must be empty; the plugin reads it too); default an embedded FerretDB")
	fs.IntVar(&c.pullTxRecs, "pull-transaction-records", 0, "the poller's --pull.transaction-records; 0 = its default (a number above the report's rows produces it in one transaction)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (every component is in this process) to this file")
	_ = fs.Parse(os.Args[1:])
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-freshness: --cpuprofile:", err)
			os.Exit(2)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if c.rate == 0 {
		c.rate = 2000
		if c.embedded {
			c.rate = 200
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		if !errors.Is(err, errSummarized) {
			fmt.Fprintln(os.Stderr, "bench-freshness:", err)
		}
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// errSummarized marks a failure already reported above the summary line.
var errSummarized = errors.New("summarized")

const (
	benchSource = "freshbench" // media_source of every pushed event
	bucketSpan  = 100 * time.Millisecond
	campaigns   = 50 // buckets take turns among this many campaigns
)

func run(ctx context.Context, c config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if c.dir == "" {
		d, err := os.MkdirTemp("", "bench-freshness-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		c.dir = d
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Peers.
	var brokers []string
	if c.embedded {
		k, err := embedded.StartKafka("")
		if err != nil {
			return err
		}
		defer k.Close()
		brokers = k.Brokers()
	} else {
		b, err := realkafka.Start(ctx, realkafka.Options{Dir: filepath.Join(c.dir, "kafka")})
		if err != nil {
			return fmt.Errorf("start Apache Kafka (scripts/kafka.sh): %w", err)
		}
		defer func() { _ = b.Stop(context.Background()) }()
		brokers = b.Brokers()
	}
	storeURI, storeName := c.mongoURI, "MongoDB"
	if storeURI == "" {
		embedded.TuneGC()
		store, err := embedded.StartMongo(ctx, filepath.Join(c.dir, "mongo"), "", log)
		if err != nil {
			return err
		}
		defer store.Close()
		storeURI, storeName = store.URI(), "FerretDB"
	}
	stack := "Apache Kafka " + strings.Join(brokers, ",")
	if c.embedded {
		stack = "kfake (embedded)"
	}
	fmt.Printf("stack: %s + %s; push %.0f events/s for %s; pull of >= %d rows served over %s\n", stack, storeName, c.rate, c.duration, c.pullRows, c.pullServe)

	// The slow report: one app, one hour of in-app events three hours ago.
	pullFrom := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	world, err := simulate.NewWorld(11, simulate.WorldOptions{Apps: 1})
	if err != nil {
		return err
	}
	tr, err := world.Traffic(simulate.TrafficOptions{Start: pullFrom, Rate: float64(c.pullRows) / 3600 * 2.2, Users: 200000})
	if err != nil {
		return err
	}
	tr.Until(pullFrom.Add(time.Hour + 10*time.Minute))
	app, report := world.AppIDs()[0], appsflyer.ReportInAppEvents
	rows := len(world.Query(app, report, pullFrom, pullFrom.Add(time.Hour)))
	if rows < c.pullRows {
		return fmt.Errorf("the simulated report has %d rows, want >= %d", rows, c.pullRows)
	}
	pullToken, pushToken := "bench-pull-token", "bench-push-token"
	sim, err := simulate.NewServer(world, simulate.ServerOptions{Tokens: []string{pullToken}, QuotaPerDay: -1,
		ServeDuration: c.pullServe, ServeMinRows: 1000})
	if err != nil {
		return err
	}
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	simSrv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = simSrv.Serve(simLn) }()
	defer simSrv.Close()

	reg := prometheus.NewRegistry()
	g, gctx := errgroup.WithContext(ctx)

	// Ingest.
	pushLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	partitions := int32(6)
	if c.embedded {
		partitions = embedded.RawPartitions
	}
	io := ingest.Options{Kafka: publish.Options{Brokers: brokers, RawPartitions: partitions}, ProgressInterval: settings.Off}
	io.Push.Token = pushToken
	io.Pull.BaseURL = "http://" + simLn.Addr().String()
	io.Pull.Token = pullToken
	io.Pull.Apps, io.Pull.Reports = []string{app}, []string{report}
	io.Pull.Window, io.Pull.CatchUpWindow = time.Hour, time.Hour
	io.Pull.Start, io.Pull.Until = pullFrom, pullFrom.Add(time.Hour)
	io.Pull.MaxRows = appsflyer.MaxRowsLarge
	io.Pull.RequestTimeout = c.pullServe + 5*time.Minute
	io.Pull.TransactionRecords = c.pullTxRecs
	pullStart := time.Now()
	g.Go(func() error {
		return ingest.Run(gctx, io, ingest.Deps{Log: log, Registerer: reg, PushListener: pushLn})
	})

	// Aggregator.
	mc, err := mongo.Connect(options.Client().ApplyURI(storeURI))
	if err != nil {
		return err
	}
	defer mc.Disconnect(context.Background())
	// Checkpoints of an earlier run would make this one skip its records.
	if n, err := mc.Database(metricdoc.DefaultDatabase).Collection(metricdoc.CollCheckpoints).EstimatedDocumentCount(ctx); err != nil || n > 0 {
		return fmt.Errorf("--mongo-uri: database %s must hold no checkpoints (found %d, err %v); drop it first", metricdoc.DefaultDatabase, n, err)
	}
	ms, err := metricstore.Open(ctx, mc, metricstore.Options{}, log)
	if err != nil {
		return err
	}
	ao := aggregate.Options{Brokers: brokers, Workers: c.aggWorkers}
	if c.mongoURI == "" {
		ao.MaxRoundWindows = embedded.RoundWindows
	}
	agg, err := aggregate.New(ao, ms, log, reg)
	if err != nil {
		return err
	}
	g.Go(func() error { return agg.Run(gctx) })

	// The plugin's datasource, as Grafana runs it.
	ds, err := plugin.NewDatasource(ctx, plugin.InstanceSettings(plugin.Settings{KafkaBrokers: strings.Join(brokers, ",")},
		map[string]string{plugin.SecureMongoURI: storeURI}))
	if err != nil {
		return err
	}
	defer ds.Dispose()

	m := newMeasure(c.rate)
	query := metricdoc.Query{QueryType: metricdoc.QueryMetrics, Measure: metricdoc.MeasureInstalls, Granularity: string(metricdoc.Hour),
		GroupBy: []string{metricdoc.DimCampaign}, Format: metricdoc.FormatTable,
		Filters: map[string][]string{metricdoc.DimMediaSource: {benchSource}}}
	watchCtx, stopWatch := context.WithCancel(gctx)
	defer stopWatch()
	var watchers sync.WaitGroup
	watchers.Go(func() { m.pollQuery(watchCtx, ds, query, c.queryEvery, log) })
	watchers.Go(func() { m.follow(watchCtx, ds, query, log) })

	// The pull's end: its window committed.
	var pullDone atomic.Int64
	watchers.Go(func() {
		for watchCtx.Err() == nil {
			if v := gaugeSum(reg, "campaignpulse_ingest_pull_windows_total"); v >= 1 {
				pullDone.Store(time.Now().UnixNano())
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// Load.
	pushURL := "http://" + pushLn.Addr().String() + "/v1/push"
	loadErr := m.push(gctx, pushURL, pushToken, app, c)
	// Let the last buckets show, then stop.
	deadline := time.Now().Add(2 * time.Minute)
	for !m.allSeen() && time.Now().Before(deadline) && gctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	for pullDone.Load() == 0 && time.Now().Before(deadline) && gctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	stopWatch()
	watchers.Wait()
	cancel()
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("pipeline stopped", "err", err)
	}
	if loadErr != nil {
		return loadErr
	}
	end := time.Now()
	if pd := pullDone.Load(); pd != 0 {
		end = time.Unix(0, pd)
		fmt.Printf("pull: %d rows of %s downloaded and committed in %s (served over %s)\n", rows, report, end.Sub(pullStart).Round(time.Millisecond), c.pullServe)
	} else {
		fmt.Printf("pull: not committed within the run\n")
	}
	if n, sum, p99 := histogram(reg, "campaignpulse_ingest_pull_transaction_seconds"); n > 0 {
		fmt.Printf("pull transactions: n=%d mean_ms=%.0f p99_ms<=%.0f\n", n, sum/float64(n)*1000, p99*1000)
	}
	if err := m.summary(pullStart, end, agg); err != nil {
		return fmt.Errorf("%w: %w", errSummarized, err)
	}
	return nil
}

// measure keeps, per pushed event, its 2xx time, and per bucket the first
// times a query and the stream counted all of its acknowledged events.
type measure struct {
	mu       sync.Mutex
	perBkt   int
	acked    map[int][]time.Time // bucket -> 2xx times
	pending  map[int]int         // bucket -> pushes not yet answered
	closed   map[int]bool        // bucket -> no more pushes
	query    map[int]time.Time
	queryMs  []float64 // how long each QueryData took
	stream   map[int]time.Time
	failed   int
	lastBkt  int
	pushDone bool
}

func newMeasure(rate float64) *measure {
	return &measure{perBkt: max(1, int(rate*bucketSpan.Seconds())), acked: map[int][]time.Time{}, pending: map[int]int{},
		closed: map[int]bool{}, query: map[int]time.Time{}, stream: map[int]time.Time{}}
}

func campaign(b int) string { return "fb" + strconv.Itoa(b%campaigns) }

// sent is how many events of bucket b went out and were acknowledged or
// are still unanswered. A push answered with an error is left out: the
// receiver answers 2xx only once Kafka has the event, so a failed one is
// not counted, and including it would keep the earlier buckets of its
// campaign from ever showing.
func (m *measure) sent(b int) int { return len(m.acked[b]) + m.pending[b] }

// push sends rate events per second for c.duration through the receiver.
func (m *measure) push(ctx context.Context, url, token, app string, c config) error {
	seqs := make(chan int, c.workers*4)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.workers}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range c.workers {
		wg.Go(func() {
			for seq := range seqs {
				b := seq / m.perBkt
				ev := map[string]string{
					"app_id": app, "appsflyer_id": fmt.Sprintf("bench-%d", seq), "event_name": metricdoc.InstallEventName,
					"event_time": time.Now().UTC().Format("2006-01-02 15:04:05"), "platform": "ios",
					"media_source": benchSource, "campaign": campaign(b),
				}
				body, _ := json.Marshal(ev)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", token)
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode/100 == 2
				at := time.Now()
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if !ok {
						firstErr.CompareAndSwap(nil, fmt.Errorf("push answered %d", resp.StatusCode))
					}
				}
				m.mu.Lock()
				if ok {
					m.acked[b] = append(m.acked[b], at)
				} else {
					m.failed++
				}
				m.pending[b]--
				m.mu.Unlock()
			}
		})
	}
	start := time.Now()
	seq := 0
	for ; ctx.Err() == nil; seq++ {
		// Steady arrivals: event seq is due at start + seq/rate; the load
		// ends after c.duration whether or not the receiver kept up.
		due := start.Add(time.Duration(float64(seq) / c.rate * float64(time.Second)))
		if due.Sub(start) >= c.duration || time.Since(start) >= c.duration {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		b := seq / m.perBkt
		m.mu.Lock()
		m.pending[b]++
		if b > m.lastBkt {
			m.closed[m.lastBkt] = true
			m.lastBkt = b
		}
		m.mu.Unlock()
		seqs <- seq
		if seq > 0 && seq%int(c.rate*10) == 0 {
			fmt.Printf("pushed %d events in %s\n", seq, time.Since(start).Round(time.Second))
		}
	}
	close(seqs)
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("pushed %d events in %s (%.0f/s; target %.0f/s)\n", seq, took.Round(time.Millisecond), float64(seq)/took.Seconds(), c.rate)
	m.mu.Lock()
	m.closed[m.lastBkt], m.pushDone = true, true
	m.mu.Unlock()
	if v := firstErr.Load(); v != nil {
		fmt.Fprintln(os.Stderr, "some pushes failed:", v)
	}
	return ctx.Err()
}

// observe records counts seen at time at by a query or the stream.
func (m *measure) observe(counts map[string]int64, at time.Time, seen map[int]time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for b := range m.acked {
		if _, done := seen[b]; done || !m.closed[b] || m.pending[b] > 0 {
			continue
		}
		need, ok := 0, true
		for e := b % campaigns; e <= m.lastBkt; e += campaigns {
			switch {
			case e > b:
				need += m.sent(e)
			case !m.closed[e] || m.pending[e] > 0:
				ok = false
			default:
				need += len(m.acked[e])
			}
		}
		if ok && counts[campaign(b)] >= int64(need) {
			seen[b] = at
		}
	}
}

func (m *measure) allSeen() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.pushDone {
		return false
	}
	for b := range m.acked {
		if _, q := m.query[b]; !q {
			return false
		}
		if _, s := m.stream[b]; !s {
			return false
		}
	}
	return true
}

// pollQuery asks QueryData over and over, as a dashboard refresh would.
func (m *measure) pollQuery(ctx context.Context, ds *plugin.Datasource, q metricdoc.Query, every time.Duration, log *slog.Logger) {
	js, _ := json.Marshal(q)
	for ctx.Err() == nil {
		now := time.Now()
		resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: js,
			TimeRange: backend.TimeRange{From: now.Add(-2 * time.Hour), To: now.Add(time.Minute)}}}})
		at := time.Now()
		m.mu.Lock()
		m.queryMs = append(m.queryMs, float64(at.Sub(now).Milliseconds()))
		m.mu.Unlock()
		switch {
		case err != nil:
			log.Warn("query", "err", err)
		case resp.Responses["A"].Error != nil:
			log.Warn("query", "err", resp.Responses["A"].Error)
		default:
			m.observe(tableCounts(resp.Responses["A"].Frames), at, m.query)
		}
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}

// follow runs the live stream of the same query and reads every frame.
func (m *measure) follow(ctx context.Context, ds *plugin.Datasource, q metricdoc.Query, log *slog.Logger) {
	path, err := plugin.StreamPath(q, 2*time.Hour)
	if err != nil {
		log.Warn("stream path", "err", err)
		return
	}
	err = ds.RunStream(ctx, &backend.RunStreamRequest{Path: path}, backend.NewStreamSender(senderFunc(func(p *backend.StreamPacket) error {
		at := time.Now()
		var f data.Frame
		if err := json.Unmarshal(p.Data, &f); err != nil {
			return err
		}
		m.observe(tableCounts(data.Frames{&f}), at, m.stream)
		return nil
	})))
	if err != nil && ctx.Err() == nil {
		log.Warn("stream", "err", err)
	}
}

type senderFunc func(*backend.StreamPacket) error

func (f senderFunc) Send(p *backend.StreamPacket) error { return f(p) }

// tableCounts reads a table frame: a campaign column and a value column.
func tableCounts(fs data.Frames) map[string]int64 {
	out := map[string]int64{}
	for _, f := range fs {
		if len(f.Fields) < 2 {
			continue
		}
		for i := range f.Fields[0].Len() {
			out[fmt.Sprint(deref(f.Fields[0].At(i)))] += toInt(deref(f.Fields[len(f.Fields)-1].At(i)))
		}
	}
	return out
}

func deref(v any) any {
	switch p := v.(type) {
	case *string:
		if p != nil {
			return *p
		}
	case *int64:
		if p != nil {
			return *p
		}
	case *float64:
		if p != nil {
			return *p
		}
	}
	return v
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(math.Round(x))
	}
	return 0
}

func gaugeSum(g prometheus.Gatherer, name string) float64 {
	mfs, err := g.Gather()
	if err != nil {
		return 0
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// histogram returns the sample count and sum of the histogram name (all
// series together) and the upper bound of the bucket holding its p99.
func histogram(g prometheus.Gatherer, name string) (n uint64, sum, p99 float64) {
	mfs, err := g.Gather()
	if err != nil {
		return 0, 0, 0
	}
	buckets := map[float64]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			n += h.GetSampleCount()
			sum += h.GetSampleSum()
			for _, b := range h.GetBucket() {
				buckets[b.GetUpperBound()] += b.GetCumulativeCount()
			}
		}
	}
	bounds := slices.Sorted(maps.Keys(buckets))
	p99 = math.Inf(1)
	for _, ub := range bounds {
		if float64(buckets[ub]) >= 0.99*float64(n) {
			p99 = ub
			break
		}
	}
	return n, sum, p99
}

// summary prints the latencies; events never shown count as failures.
func (m *measure) summary(pullStart, pullEnd time.Time, _ *aggregate.Aggregator) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all, during, stream []float64
	unseenQ, unseenS, events := 0, 0, 0
	for b, acks := range m.acked {
		q, qok := m.query[b]
		s, sok := m.stream[b]
		for _, a := range acks {
			events++
			if qok {
				ms := float64(q.Sub(a).Milliseconds())
				all = append(all, ms)
				if !a.Before(pullStart) && !a.After(pullEnd) {
					during = append(during, ms)
				}
			} else {
				unseenQ++
			}
			if sok {
				stream = append(stream, float64(s.Sub(a).Milliseconds()))
			} else {
				unseenS++
			}
		}
	}
	fmt.Printf("events: pushed_2xx=%d failed=%d never_in_query=%d never_in_stream=%d during_pull=%d buckets=%d\n",
		events, m.failed, unseenQ, unseenS, len(during), len(m.acked))
	var err error
	if events == 0 || unseenQ > 0 || unseenS > 0 {
		// Said before the summary line, which stays the last line; the
		// percentiles then cover only the events that did show.
		err = fmt.Errorf("%d of %d acknowledged events never showed in QueryData, %d never in the stream", unseenQ, events, unseenS)
		fmt.Println("FAILED:", err)
	}
	// QueryData's own duration is part of every query figure: an answer
	// counts when it arrives, and it reflects the store when it was asked.
	fmt.Printf("queries: n=%d p50_ms=%d p99_ms=%d max_ms=%d\n", len(m.queryMs), pct(m.queryMs, 50), pct(m.queryMs, 99), pct(m.queryMs, 100))
	fmt.Printf("freshness: p50_ms=%d p99_ms=%d max_ms=%d during_pull_p99_ms=%d stream_p99_ms=%d\n",
		pct(all, 50), pct(all, 99), pct(all, 100), pct(during, 99), pct(stream, 99))
	return err
}

// pct is the p-th percentile (nearest rank) in whole ms; -1 without data.
func pct(v []float64, p float64) int64 {
	if len(v) == 0 {
		return -1
	}
	slices.Sort(v)
	i := int(math.Ceil(p/100*float64(len(v)))) - 1
	return int64(v[max(0, min(i, len(v)-1))])
}
