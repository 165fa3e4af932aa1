package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/campaignpulse/campaignpulse/aggregator/aggregate"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
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
	fs.Float64Var(&rate, "sim.rate", 200, "simulated events per second")
	fs.Int64Var(&seed, "sim.seed", 1, "seed of the simulated world and traffic")
	fs.DurationVar(&duration, "run.duration", 0, "stop after this long; 0 runs until SIGINT/SIGTERM")
	fs.DurationVar(&report, "run.report-every", 5*time.Second, "how often the top campaigns are printed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}

	// Peers.
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
	ingestOpts := ingest.Options{
		Kafka:            publish.Options{Brokers: brokers, RawPartitions: 6},
		ProgressInterval: report,
	}
	if report <= 0 {
		ingestOpts.ProgressInterval = settings.Off
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
	g.Go(func() error { return simulate.Run(ctx, so, log.With("part", "simulate")) })

	// Aggregator into the store.
	mc, err := mongo.Connect(options.Client().ApplyURI(store.URI()))
	if err != nil {
		return fmt.Errorf("connect embedded mongo: %w", err)
	}
	defer mc.Disconnect(context.WithoutCancel(ctx))
	ms, err := metricstore.Open(ctx, mc, metricstore.Options{}, log.With("part", "store"))
	if err != nil {
		return err
	}
	agg, err := aggregate.New(aggregate.Options{Brokers: brokers, Location: loc}, ms, log.With("part", "aggregate"), reg)
	if err != nil {
		return err
	}
	g.Go(func() error { return agg.Run(ctx) })

	// The Grafana plugin's datasource, in-process, serving queries over HTTP.
	ds, err := plugin.NewDatasource(ctx, plugin.InstanceSettings(
		plugin.Settings{KafkaBrokers: strings.Join(brokers, ","), TimeZone: loc.String()},
		map[string]string{plugin.SecureMongoURI: store.URI()}))
	if err != nil {
		return fmt.Errorf("plugin datasource: %w", err)
	}
	defer ds.Dispose()
	srv := &http.Server{Addr: httpAddr, Handler: runMux(ds, reg), ReadHeaderTimeout: 5 * time.Second}
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
	log.Info("campaignpulse running",
		"query_api", "http://"+ln.Addr().String()+"/api/query",
		"metrics", "http://"+ln.Addr().String()+"/metrics",
		"push", so.Push.URL, "pull_api", ingestOpts.Pull.BaseURL)

	g.Go(func() error { return reportLoop(ctx, ds, report, log) })

	err = g.Wait()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// runMux serves the plugin the way Grafana would reach it: POST /api/query
// takes a metricdoc.Query (plus from/to) and answers with data frames as
// JSON; /api/resources/ forwards to the datasource's CallResource.
func runMux(ds *plugin.Datasource, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /api/query", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		from, to := time.Now().Add(-24*time.Hour), time.Now()
		if v := r.URL.Query().Get("from"); v != "" {
			if from, err = time.Parse(time.RFC3339, v); err != nil {
				http.Error(w, "from: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if v := r.URL.Query().Get("to"); v != "" {
			if to, err = time.Parse(time.RFC3339, v); err != nil {
				http.Error(w, "to: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		resp, err := ds.QueryData(r.Context(), queryRequest(body, from, to))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET /api/resources/{path...}", func(w http.ResponseWriter, r *http.Request) {
		req := &backend.CallResourceRequest{
			PluginContext: pluginContext(),
			Path:          r.PathValue("path"),
			Method:        r.Method,
			URL:           r.PathValue("path") + "?" + r.URL.RawQuery,
		}
		err := ds.CallResource(r.Context(), req, backend.CallResourceResponseSenderFunc(func(res *backend.CallResourceResponse) error {
			for k, vs := range res.Headers {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			w.WriteHeader(res.Status)
			_, err := w.Write(res.Body)
			return err
		}))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	return mux
}

func pluginContext() backend.PluginContext {
	s := plugin.InstanceSettings(plugin.Settings{}, nil)
	return backend.PluginContext{PluginID: plugin.PluginID, DataSourceInstanceSettings: &s}
}

func queryRequest(query []byte, from, to time.Time) *backend.QueryDataRequest {
	return &backend.QueryDataRequest{
		PluginContext: pluginContext(),
		Queries: []backend.DataQuery{{
			RefID: "A", JSON: query, TimeRange: backend.TimeRange{From: from, To: to},
			Interval: time.Hour, MaxDataPoints: 1000,
		}},
	}
}

// reportLoop prints what a marketer would look at: today's installs by
// campaign (top 5) and the freshness of each source, through the plugin.
func reportLoop(ctx context.Context, ds *plugin.Datasource, every time.Duration, log *slog.Logger) error {
	if every <= 0 {
		return nil
	}
	q, _ := json.Marshal(metricdoc.Query{
		QueryType: metricdoc.QueryMetrics, Measure: metricdoc.MeasureInstalls, Granularity: string(metricdoc.Day),
		GroupBy: []string{metricdoc.DimMediaSource, metricdoc.DimCampaign}, TopN: 5, Format: metricdoc.FormatTable,
	})
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := time.Now()
		resp, err := ds.QueryData(ctx, queryRequest(q, now.Add(-48*time.Hour), now))
		if err != nil {
			log.Warn("report query failed", "err", err)
			continue
		}
		r := resp.Responses["A"]
		if r.Error != nil {
			log.Warn("report query failed", "err", r.Error)
			continue
		}
		var rows []string
		for _, f := range r.Frames {
			n, _ := f.RowLen()
			for i := 0; i < n; i++ {
				var cells []string
				for _, fld := range f.Fields {
					cells = append(cells, fmt.Sprint(derefCell(fld.At(i))))
				}
				rows = append(rows, strings.Join(cells, " / "))
			}
		}
		sort.Strings(rows)
		log.Info("installs in the last 48h by media source / campaign (top 5, via the plugin)", "rows", rows)
	}
}

func derefCell(v any) any {
	switch p := v.(type) {
	case *float64:
		if p != nil {
			return *p
		}
	case *int64:
		if p != nil {
			return *p
		}
	case *string:
		if p != nil {
			return *p
		}
	}
	return v
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
