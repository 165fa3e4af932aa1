package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
	_ "time/tzdata" // --aggregate.timezone works in minimal images

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/aggregate"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
)

func init() {
	register("aggregate", "raw_events -> event-time windows -> MongoDB + aggregated_metrics", runAggregate)
}

// runAggregate consumes raw_events until SIGTERM, serving /metrics,
// /healthz and /readyz. The MongoDB URI and password come from flags, env
// or files and are never logged.
func runAggregate(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("aggregate", flag.ContinueOnError)
	var (
		o                        aggregate.Options
		so                       metricstore.Options
		brokers, tz, httpAddr    string
		uri, uriFile, pw, pwFile string
		selectTimeout, opTimeout time.Duration
	)
	fs.StringVar(&brokers, "kafka.brokers", "localhost:9092", "comma-separated seed brokers")
	fs.StringVar(&o.Group, "kafka.group", "campaignpulse-aggregate", "consumer group shared by all aggregators")
	fs.StringVar(&o.InstanceID, "kafka.instance-id", "", "static group member id (group.instance.id): a restarted aggregator with the same id takes its partitions back without waiting for the session timeout; empty = dynamic member")
	fs.DurationVar(&o.SessionTimeout, "kafka.session-timeout", 45*time.Second, "group session timeout: how long a dead aggregator keeps its partitions")
	fs.DurationVar(&o.RebalanceTimeout, "kafka.rebalance-timeout", 60*time.Second, "how long a rebalance waits for members to rejoin (a killed member stalls the group this long)")
	fs.DurationVar(&o.HeartbeatInterval, "kafka.heartbeat-interval", 3*time.Second, "group heartbeat period: how fast a member notices a rebalance")
	fs.StringVar(&o.Topic, "kafka.raw-topic", "raw_events", "topic of raw events")
	fs.StringVar(&o.DLQTopic, "kafka.dlq-topic", "raw_events_dlq", "topic receiving invalid events with dlq_reason and dlq_origin headers")
	fs.StringVar(&o.UpdatesTopic, "kafka.aggregated-topic", "aggregated_metrics", "topic receiving the changed windows after each flush")
	fs.StringVar(&uri, "mongo.uri", "mongodb://localhost:27017", "MongoDB connection string (prefer --mongo.uri-file; never logged)")
	fs.StringVar(&uriFile, "mongo.uri-file", "", "file holding the MongoDB connection string; wins over --mongo.uri")
	fs.StringVar(&pw, "mongo.password", "", "password for the user named in the URI (prefer --mongo.password-file)")
	fs.StringVar(&pwFile, "mongo.password-file", "", "file holding the MongoDB password; wins over --mongo.password")
	fs.StringVar(&so.Database, "mongo.database", "campaignpulse", "database of the metric collections")
	fs.DurationVar(&so.HourlyRetention, "mongo.hourly-retention", 90*24*time.Hour, "expireAfterSeconds of hourly_metrics")
	fs.DurationVar(&so.DailyRetention, "mongo.daily-retention", 2*365*24*time.Hour, "expireAfterSeconds of daily_metrics")
	fs.DurationVar(&so.LiveGrace, "mongo.live-grace", 48*time.Hour, "how long a finalized window stays in live_metrics (its expire_at)")
	fs.IntVar(&so.BatchSize, "mongo.batch-size", 50, "updates per bulk write (FerretDB stalls at 100; real MongoDB takes thousands)")
	fs.BoolVar(&so.AtomicLiveWrites, "mongo.atomic-live-writes", false, "on FerretDB, keep the atomic offset-guarded live update (slow there) instead of read-then-write by _id (MongoDB always uses it)")
	fs.DurationVar(&selectTimeout, "mongo.server-selection-timeout", 5*time.Second, "how long one operation waits for a reachable server")
	fs.DurationVar(&opTimeout, "mongo.timeout", 30*time.Second, "timeout of one MongoDB operation")
	fs.StringVar(&tz, "aggregate.timezone", "UTC", "IANA time zone of day windows (marketers' 'today')")
	fs.DurationVar(&o.AllowedLateness, "aggregate.lateness", 2*time.Hour, "allowed lateness: watermark = newest event time minus this")
	fs.DurationVar(&o.CorrectionHorizon, "aggregate.correction-horizon", 24*time.Hour, "late events older than watermark minus this are too late; also the de-duplication horizon")
	fs.DurationVar(&o.MaxFuture, "aggregate.max-future", time.Hour, "events timed this far after their ingest time are dead-lettered as bad_time; 0 = no check")
	fs.DurationVar(&o.FlushInterval, "aggregate.flush-interval", time.Second, "period of MongoDB writes and aggregated_metrics updates")
	fs.IntVar(&o.MaxDirtyWindows, "aggregate.max-dirty-windows", 2000, "flush early when this many windows wait to be written (bounds one flush; lower it for slow stores like FerretDB)")
	fs.DurationVar(&o.ExpiryInterval, "aggregate.expiry-interval", 10*time.Minute, "period of application-side expiry where MongoDB lacks time-series/TTL")
	fs.IntVar(&o.MaxPollRecords, "aggregate.max-poll-records", 10000, "records handled between rebalance checks")
	fs.StringVar(&httpAddr, "http.addr", ":9464", "listen address of /metrics, /healthz and /readyz")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o.Brokers = splitList(brokers)
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("aggregate.timezone %q: %w", tz, err)
	}
	o.Location = loc
	if uri, err = readSecret(uri, uriFile); err != nil {
		return fmt.Errorf("mongo.uri-file: %w", err)
	}
	if pw, err = readSecret(pw, pwFile); err != nil {
		return fmt.Errorf("mongo.password-file: %w", err)
	}

	copts := options.Client().ApplyURI(uri).SetServerSelectionTimeout(selectTimeout).SetTimeout(opTimeout).SetAppName("campaignpulse-aggregate")
	if err := copts.Validate(); err != nil {
		return fmt.Errorf("mongo.uri: invalid connection string") // the driver's message may quote the URI
	}
	if pw != "" {
		if copts.Auth == nil || copts.Auth.Username == "" {
			return errors.New("mongo.password: set, but --mongo.uri names no user")
		}
		copts.Auth.Password, copts.Auth.PasswordSet = pw, true
	}
	mc, err := mongo.Connect(copts)
	if err != nil {
		return errors.New("mongo.uri: cannot create a client from the connection string")
	}
	defer func() { _ = mc.Disconnect(context.Background()) }()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var agg atomic.Pointer[aggregate.Aggregator] // set once Run starts; read by /readyz
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		err := errors.New("starting")
		if a := agg.Load(); a != nil {
			err = a.Ready()
		}
		if err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("http.addr %s: %w", httpAddr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("aggregate listening", "http_addr", ln.Addr().String(), "database", so.Database, "timezone", tz)

	// The schema step waits for MongoDB (it may start after us).
	var store *metricstore.Store
	for {
		store, err = metricstore.Open(ctx, mc, so, log)
		if err == nil || !metricstore.Retryable(err) || ctx.Err() != nil {
			break
		}
		log.Warn("mongodb not reachable yet; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a, err := aggregate.New(o, store, log, reg)
	if err != nil {
		return err
	}
	agg.Store(a)
	return a.Run(ctx)
}
