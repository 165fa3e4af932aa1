package aggregate

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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
)

// FlagHTTPAddr names the listen address of the service's endpoints.
const FlagHTTPAddr = "http.addr"

// ServiceOptions configure Run: the aggregator, its store, how to reach
// MongoDB and where /metrics, /healthz and /readyz are served.
type ServiceOptions struct {
	Aggregator Options
	Store      metricstore.Options
	Mongo      metricstore.ClientOptions
	// HTTPAddr is the listen address of /metrics, /healthz and /readyz;
	// empty serves nothing (the caller serves its own registry).
	HTTPAddr string
}

// RegisterFlags registers every setting of the service on fs.
func (o *ServiceOptions) RegisterFlags(fs *flag.FlagSet) {
	o.Aggregator.RegisterFlags(fs)
	o.Store.RegisterFlags(fs)
	o.Mongo.RegisterFlags(fs)
	fs.StringVar(&o.HTTPAddr, FlagHTTPAddr, ":9464", "listen address of /metrics, /healthz and /readyz")
}

// Deps are what the caller provides to Run.
type Deps struct {
	Log *slog.Logger
	// Registerer receives every aggregator metric. Required.
	Registerer prometheus.Registerer
	// Gatherer, when set, is served on /metrics.
	Gatherer prometheus.Gatherer
	// Mongo, when set, is the client of the store; otherwise Run connects
	// with ServiceOptions.Mongo and disconnects on return.
	Mongo *mongo.Client
	// HTTPListener, when set, is used instead of listening on HTTPAddr.
	HTTPListener net.Listener
}

// storeRetry is the pause between attempts to reach MongoDB at start.
const storeRetry = 2 * time.Second

// Run is the aggregate service: it serves /metrics, /healthz and /readyz,
// waits for MongoDB (it may start after us) while creating the collections,
// then consumes raw_events until ctx ends and returns nil. Secrets in
// ServiceOptions.Mongo never reach a log or an error.
func Run(ctx context.Context, o ServiceOptions, deps Deps) error {
	if deps.Log == nil || deps.Registerer == nil {
		return errors.New("aggregate: log and registerer are required")
	}
	log := deps.Log
	mc := deps.Mongo
	if mc == nil {
		var err error
		if mc, err = o.Mongo.Connect("campaignpulse-aggregate"); err != nil {
			return err
		}
		defer func() { _ = mc.Disconnect(context.Background()) }()
	}

	var agg atomic.Pointer[Aggregator] // set once the aggregator exists; read by /readyz
	if deps.HTTPListener != nil || o.HTTPAddr != "" {
		stop, err := serveHTTP(o.HTTPAddr, deps, &agg)
		if err != nil {
			return err
		}
		defer stop()
	}
	log.Info("aggregate starting", "database", o.Store.WithDefaults().Database, "timezone", o.Aggregator.WithDefaults().Location.String())

	var (
		store *metricstore.Store
		err   error
	)
	for {
		store, err = metricstore.Open(ctx, mc, o.Store, log)
		if err == nil || !metricstore.Retryable(err) || ctx.Err() != nil {
			break
		}
		log.Warn("mongodb not reachable yet; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(storeRetry):
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a, err := New(o.Aggregator, store, log, deps.Registerer)
	if err != nil {
		return err
	}
	agg.Store(a)
	return a.Run(ctx)
}

// serveHTTP serves /metrics, /healthz and /readyz until stop is called.
func serveHTTP(addr string, deps Deps, agg *atomic.Pointer[Aggregator]) (stop func(), err error) {
	mux := http.NewServeMux()
	if deps.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(deps.Gatherer, promhttp.HandlerOpts{Registry: deps.Registerer}))
	}
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
	ln := deps.HTTPListener
	if ln == nil {
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("%s %s: %w", FlagHTTPAddr, addr, err)
		}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	deps.Log.Info("aggregate listening", "http_addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
