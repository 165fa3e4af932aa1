package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/pull"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/push"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Deps are what the caller provides.
type Deps struct {
	Log *slog.Logger
	// Registerer receives every ingest metric. Required.
	Registerer prometheus.Registerer
	// Gatherer, when set, is served on the receiver's /metrics.
	Gatherer prometheus.Gatherer
	// PushListener, when set, is used instead of listening on Push.Addr
	// (tests and the all-in-one mode pick a free port this way).
	PushListener net.Listener
	// OpsListener, when set, is used instead of listening on OpsAddr.
	OpsListener net.Listener
	// Now and Sleep are the poller's clock (pull.Deps). Default the wall
	// clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Run creates the topics, then runs the push receiver and the pull poller
// until ctx ends. On ctx's end it stops accepting pushes, finishes the ones
// in flight (their Kafka acks included), aborts an in-flight pull window
// (it is pulled again next time; its cursor did not move), flushes and
// returns nil. Apps stopped on permanent errors are logged, not fatal.
func Run(ctx context.Context, opts Options, deps Deps) error {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return err
	}
	if deps.Log == nil || deps.Registerer == nil {
		return errors.New("ingest: log and registerer are required")
	}
	log := deps.Log
	if !opts.SkipTopicCreation {
		if err := CreateTopics(ctx, opts.Kafka, log); err != nil {
			return err
		}
	}
	pm := publish.NewMetrics(deps.Registerer)

	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		runErr   error
		producer *publish.Producer
	)
	fail := func(err error) {
		errMu.Lock()
		runErr = errors.Join(runErr, err)
		errMu.Unlock()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var metrics http.Handler
	if deps.Gatherer != nil {
		metrics = promhttp.HandlerFor(deps.Gatherer, promhttp.HandlerOpts{})
	}
	// ops is what the internal listener serves: the receiver's readiness
	// (Kafka reachable, not draining) or, pull only, liveness and metrics.
	ops := opsHandler(metrics)
	opsLn, err := listen(deps.OpsListener, opts.OpsAddr, "ops.addr")
	if err != nil {
		return err
	}

	if !opts.DisablePush {
		producer, err = publish.NewProducer(opts.Kafka, metricdoc.SourcePush, pm, log, deps.Registerer, nil)
		if err != nil {
			closeListener(opsLn)
			return err
		}
		recv, err := push.New(opts.Push, push.Deps{Publisher: producer, Log: log.With("part", "push"),
			Registerer: deps.Registerer, Ready: producer.Ping, Metrics: metrics})
		if err != nil {
			closeListener(opsLn)
			_ = closeProducer(producer, opts.StopTimeout)
			return err
		}
		ln, err := listen(deps.PushListener, opts.Push.Addr, "push receiver")
		if err != nil {
			closeListener(opsLn)
			_ = closeProducer(producer, opts.StopTimeout)
			return err
		}
		ops = recv.OpsHandler()
		wg.Go(func() {
			if err := recv.Serve(ctx, ln); err != nil {
				fail(err)
				cancel() // the receiver is the service's front door
			}
		})
	} else if opsLn == nil {
		// Pull only and no ops listener: serve them on the push address.
		if opsLn, err = listen(deps.PushListener, opts.Push.Addr, "push.addr (ops endpoints)"); err != nil {
			return err
		}
	}
	if opsLn != nil {
		wg.Go(func() {
			if err := serveOps(ctx, opsLn, ops); err != nil {
				fail(err)
				cancel()
			}
		})
	}

	if opts.PullEnabled() {
		poller, err := pull.New(opts.Pull, pull.Deps{Kafka: opts.Kafka, Metrics: pm, Registerer: deps.Registerer,
			Log: log.With("part", "pull"), Now: deps.Now, Sleep: deps.Sleep})
		if err != nil {
			cancel()
			wg.Wait()
			return errors.Join(err, closeProducer(producer, opts.StopTimeout))
		}
		wg.Go(func() {
			defer poller.Close()
			if err := poller.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("pull poller stopped; push continues", "err", err)
			}
		})
	}

	if opts.ProgressInterval > 0 {
		wg.Go(func() { logProgress(ctx, pm, opts.ProgressInterval, log) })
	}
	wg.Wait()
	return errors.Join(runErr, closeProducer(producer, opts.StopTimeout))
}

// listen returns ln if set, else listens on addr; neither means no listener.
func listen(ln net.Listener, addr, what string) (net.Listener, error) {
	if ln != nil || addr == "" {
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listen %s: %w", what, addr, err)
	}
	return ln, nil
}

func closeListener(ln net.Listener) {
	if ln != nil {
		_ = ln.Close()
	}
}

// opsHandler serves /healthz, /readyz (always ready: nothing to wait for
// without the receiver) and, if given, /metrics.
func opsHandler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", ok)
	if metrics != nil {
		mux.Handle("/metrics", metrics)
	}
	return mux
}

// serveOps serves h on ln until ctx ends.
func serveOps(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ops endpoints: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func closeProducer(p *publish.Producer, timeout time.Duration) error {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return p.Close(ctx)
}

// CreateTopics makes sure the pipeline's topics exist with their configs.
func CreateTopics(ctx context.Context, o publish.Options, log *slog.Logger) error {
	o = o.WithDefaults()
	if err := o.Validate(); err != nil {
		return err
	}
	cl, err := publish.NewClient(o, "admin", log, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	return publish.EnsureTopics(ctx, kadm.NewClient(cl), o, log)
}

// Backfill re-pulls [from, to) for opts.Pull's apps and reports without
// moving the cursors, then returns. Duplicates of events already ingested
// are removed downstream by event identity.
func Backfill(ctx context.Context, opts Options, deps Deps, from, to time.Time) error {
	opts.DisablePush = true
	opts = opts.WithDefaults()
	if !opts.PullEnabled() {
		return errors.New("pull.apps: backfill needs at least one app")
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	if !opts.SkipTopicCreation {
		if err := CreateTopics(ctx, opts.Kafka, deps.Log); err != nil {
			return err
		}
	}
	p, err := pull.New(opts.Pull, pull.Deps{Kafka: opts.Kafka, Metrics: publish.NewMetrics(deps.Registerer),
		Registerer: deps.Registerer, Log: deps.Log.With("part", "backfill"), Now: deps.Now, Sleep: deps.Sleep})
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Backfill(ctx, from, to)
}
