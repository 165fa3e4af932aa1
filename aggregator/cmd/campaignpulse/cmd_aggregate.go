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
		o        aggregate.Options
		so       metricstore.Options
		co       metricstore.ClientOptions
		httpAddr string
	)
	o.RegisterFlags(fs)
	so.RegisterFlags(fs)
	co.RegisterFlags(fs)
	fs.StringVar(&httpAddr, "http.addr", ":9464", "listen address of /metrics, /healthz and /readyz")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	setMemoryLimit(log)
	mc, err := co.Connect("campaignpulse-aggregate")
	if err != nil {
		return err
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
	log.Info("aggregate listening", "http_addr", ln.Addr().String(), "database", so.Database, "timezone", o.Location.String())

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
