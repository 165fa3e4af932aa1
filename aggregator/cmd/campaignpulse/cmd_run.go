package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/campaignpulse/campaignpulse/aggregator/aggregate"
	"github.com/campaignpulse/campaignpulse/aggregator/console"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/logging"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/localapi"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

func init() {
	register("run", "all-in-one: simulator, ingest, aggregator, store and plugin on embedded Kafka + MongoDB", runAll)
}

// runAll is `make run`: the whole data path in one process on a machine
// with nothing installed. Kafka is franz-go's in-process kfake cluster and
// MongoDB is FerretDB on SQLite files under --run.dir; everything else is
// the production code: the simulator pushes to the real receiver and serves
// the Pull API to the real poller, the aggregator writes the real store, and
// the Grafana plugin's datasource answers queries on --http.addr.
func runAll(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var (
		dir, kafkaAddr, mongoAddr, pushAddr, pullAddr, httpAddr string
		loc                                                     *time.Location
		rate                                                    float64
		seed                                                    int64
		duration, report                                        time.Duration
	)
	fs.StringVar(&dir, "run.dir", ".run", "directory of the embedded MongoDB files")
	fs.StringVar(&kafkaAddr, "run.kafka-addr", "127.0.0.1:9092", "listen address of the embedded Kafka broker")
	fs.StringVar(&mongoAddr, "run.mongo-addr", "127.0.0.1:27018", "listen address of the embedded MongoDB server")
	fs.StringVar(&pushAddr, "run.push-addr", "127.0.0.1:8090", "listen address of the push receiver")
	fs.StringVar(&pullAddr, "run.pull-addr", "127.0.0.1:8091", "listen address of the simulated AppsFlyer Pull API")
	fs.StringVar(&httpAddr, "http.addr", "127.0.0.1:3030", "listen address of /metrics and the plugin's query API (/api/query, /api/resources/...)")
	aggregate.RegisterTimezone(fs, &loc)
	fs.Float64Var(&rate, simulate.FlagRate, 200, "simulated events per second")
	fs.Int64Var(&seed, simulate.FlagSeed, 1, "seed of the simulated world and traffic")
	fs.DurationVar(&duration, "run.duration", 0, "stop after this long; 0 runs until SIGINT/SIGTERM")
	fs.DurationVar(&report, "run.report-every", 5*time.Second, "how often the summary (events/s, top campaigns, lag, freshness) is printed: redrawn in place on a terminal, one line otherwise; 0 = never")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}

	// Peers.
	embedded.TuneGC()
	kafka, err := embedded.StartKafka(kafkaAddr)
	if err != nil {
		return fmt.Errorf("run.kafka-addr: %w", err)
	}
	defer kafka.Close()
	store, err := embedded.StartMongo(ctx, filepath.Join(dir, "mongo"), mongoAddr, log)
	if err != nil {
		return fmt.Errorf("run.mongo-addr: %w", err)
	}
	defer store.Close()
	brokers := kafka.Brokers()
	log.Info("embedded peers up", "kafka", strings.Join(brokers, ","), "mongo_addr", mongoAddr, "data_dir", dir)

	// Fresh random tokens: the demo authenticates like production does.
	pushToken, pullToken := randomToken(), randomToken()
	world, err := simulate.NewWorld(seed, simulate.WorldOptions{})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	g, ctx := errgroup.WithContext(ctx)

	// Ingest: push receiver and pull poller into raw_events.
	pushLn, err := net.Listen("tcp", pushAddr)
	if err != nil {
		return fmt.Errorf("run.push-addr %s: %w", pushAddr, err)
	}
	// The summary shows events/s per source: ingest does not log them too.
	ingestOpts := ingest.Options{
		Kafka:            publish.Options{Brokers: brokers, RawPartitions: embedded.RawPartitions},
		ProgressInterval: settings.Off,
	}
	ingestOpts.Push.Token = pushToken
	ingestOpts.Pull.BaseURL = "http://" + pullAddr
	ingestOpts.Pull.Token = pullToken
	ingestOpts.Pull.Apps = world.AppIDs()
	// Short pull windows so the pull path shows up within a minute; the
	// simulated AppsFlyer lifts its daily quota for this demo.
	ingestOpts.Pull.Window = 30 * time.Second
	ingestOpts.Pull.CatchUpWindow = 30 * time.Second
	ingestOpts.Pull.Delay = 30 * time.Second
	ingestOpts.Pull.Start = time.Now().UTC().Truncate(time.Minute)
	g.Go(func() error {
		return ingest.Run(ctx, ingestOpts, ingest.Deps{Log: log.With("part", "ingest"), Registerer: reg, PushListener: pushLn})
	})

	// Simulated AppsFlyer: Pull API for the poller, push traffic to the receiver.
	so := simulate.Options{Seed: seed, Listen: pullAddr}
	so.Traffic.Rate = rate
	so.Traffic.DuplicateShare, so.Traffic.LateShare, so.Traffic.MalformedShare, so.Traffic.DropShare = 0.02, 0.02, 0.005, 0.02
	so.Server.Tokens = []string{pullToken}
	so.Server.QuotaPerDay = -1
	so.Push.URL = "http://" + pushAddr + "/v1/push"
	so.Push.Token = pushToken
	// The simulator stands in for AppsFlyer: its progress is in the summary,
	// its warnings still show.
	g.Go(func() error { return simulate.Run(ctx, so, logging.Library(log).With("part", "simulate")) })

	// Aggregator into the store.
	mc, err := mongo.Connect(options.Client().ApplyURI(store.URI()))
	if err != nil {
		return fmt.Errorf("connect embedded mongo: %w", err)
	}
	defer mc.Disconnect(context.WithoutCancel(ctx))
	g.Go(func() error {
		return aggregate.Run(ctx, aggregate.ServiceOptions{Aggregator: aggregate.Options{Brokers: brokers, Location: loc, MaxRoundWindows: embedded.RoundWindows}},
			aggregate.Deps{Log: log.With("part", "aggregate"), Registerer: reg, Mongo: mc})
	})

	// The Grafana plugin's datasource, in-process, serving queries over HTTP.
	ds, err := plugin.NewDatasource(ctx, plugin.InstanceSettings(
		plugin.Settings{KafkaBrokers: strings.Join(brokers, ","), TimeZone: loc.String()},
		map[string]string{plugin.SecureMongoURI: store.URI()}))
	if err != nil {
		return fmt.Errorf("plugin datasource: %w", err)
	}
	defer ds.Dispose()
	srv := &http.Server{Addr: httpAddr, Handler: localapi.Handler(ds, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("http.addr %s: %w", httpAddr, err)
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	base := "http://" + ln.Addr().String()
	links := []console.Link{
		{Name: "query API", URL: "curl -s " + base + `/api/query -d '{"queryType":"metrics","measure":"installs","granularity":"hour","groupBy":["campaign"],"topN":5}'`},
		{Name: "variables", URL: "curl -s '" + base + "/api/resources/variables?dimension=campaign'"},
		{Name: "metrics", URL: base + "/metrics"},
		{Name: "push receiver", URL: so.Push.URL},
		{Name: "pull API", URL: ingestOpts.Pull.BaseURL},
		{Name: "status", URL: fmt.Sprintf("campaignpulse status --kafka.brokers %s --mongo.uri %s", strings.Join(brokers, ","), store.URI())},
	}
	log.Info("campaignpulse running", "query_api", base+"/api/query", "metrics", base+"/metrics", "push", so.Push.URL, "pull_api", ingestOpts.Pull.BaseURL)
	if report > 0 {
		c := &console.Collector{
			Query: func(ctx context.Context, model []byte, from, to time.Time) (data.Frames, error) {
				resp, err := ds.QueryData(ctx, localapi.QueryRequest(model, from, to))
				if err != nil {
					return nil, err
				}
				r := resp.Responses["A"]
				return r.Frames, r.Error
			},
			Gatherer: reg, Location: loc, Links: links,
		}
		g.Go(func() error {
			return summaryLoop(ctx, c, console.Printer{W: os.Stdout, TTY: console.IsTerminal(os.Stdout)}, report)
		})
	}

	err = g.Wait()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// summaryLoop prints a summary every period until ctx ends.
func summaryLoop(ctx context.Context, c *console.Collector, p console.Printer, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, every)
		s := c.Collect(qctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err := p.Print(s); err != nil {
			return fmt.Errorf("print summary: %w", err)
		}
	}
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
