package simulate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/clock"
)

// Options configure Run: a world, its traffic, the Pull API server and the
// push emitter, as the `simulate` subcommand and `make run` use them.
type Options struct {
	// Seed fixes the world and its traffic. Default 0.
	Seed    int64
	World   WorldOptions
	Traffic TrafficOptions // Start defaults to the clock's now in Run
	// Listen is the address of the fake Pull API; "" disables it.
	Listen string
	Server ServerOptions
	// Push sends the traffic to Push.URL; with an empty URL the traffic is
	// only generated (paced) so the Pull API has data to serve.
	Push PusherOptions
	// Workers is the number of concurrent pushes. Default 8.
	Workers int
	// Count stops the traffic after this many deliveries (the Pull API keeps
	// serving until ctx ends); 0 means no limit.
	Count int
	// StatsInterval is how often progress is logged. Default 10s.
	StatsInterval time.Duration
	// Now is the clock for pacing. Default time.Now.
	Now func() time.Time
	// OnListen is called with the Pull API's address once it listens.
	OnListen func(addr string)
}

func (o *Options) defaults() {
	if o.Workers == 0 {
		o.Workers = 8
	}
	if o.StatsInterval == 0 {
		o.StatsInterval = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Traffic.Start.IsZero() {
		o.Traffic.Start = o.Now().UTC()
	}
}

func (o *Options) validate() error {
	switch {
	case o.Workers < 1:
		return fmt.Errorf("simulate option Workers = %d: want >= 1", o.Workers)
	case o.Count < 0:
		return fmt.Errorf("simulate option Count = %d: want >= 0", o.Count)
	case o.StatsInterval < 0:
		return fmt.Errorf("simulate option StatsInterval = %v: want >= 0", o.StatsInterval)
	case o.Listen == "" && o.Push.URL == "":
		return errors.New("simulate options Listen and Push.URL are both empty: nothing to do")
	}
	return nil
}

// RunStats are the counters Run logs.
type RunStats struct {
	Deliveries, Accepted, Rejected, Failed, Dropped int64
}

// Run simulates AppsFlyer until ctx ends: it serves the Pull API on Listen
// and sends paced push traffic to Push.URL.
func Run(ctx context.Context, opts Options, log *slog.Logger) error {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return err
	}
	w, err := NewWorld(opts.Seed, opts.World)
	if err != nil {
		return err
	}
	tr, err := w.Traffic(opts.Traffic)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	serveErr := make(chan error, 1)
	if opts.Listen != "" {
		if opts.Server.Log == nil {
			opts.Server.Log = log
		}
		srv, err := NewServer(w, opts.Server)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", opts.Listen)
		if err != nil {
			return fmt.Errorf("listen for pull api on %s: %w", opts.Listen, err)
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
		go func() { serveErr <- hs.Serve(ln) }()
		defer func() {
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer scancel()
			_ = hs.Shutdown(sctx)
		}()
		log.Info("simulated appsflyer pull api listening", "addr", ln.Addr().String(), "apps", w.AppIDs(), "seed", opts.Seed)
		if opts.OnListen != nil {
			opts.OnListen(ln.Addr().String())
		}
	}

	var st struct{ deliveries, accepted, rejected, failed, dropped atomic.Int64 }
	snapshot := func() RunStats {
		return RunStats{st.deliveries.Load(), st.accepted.Load(), st.rejected.Load(), st.failed.Load(), st.dropped.Load()}
	}
	trafficDone := make(chan error, 1)
	go func() {
		if opts.Push.URL == "" {
			trafficDone <- generate(ctx, tr, opts, &st.deliveries)
			return
		}
		if opts.Push.Log == nil {
			opts.Push.Log = log
		}
		p, err := NewPusher(opts.Push)
		if err != nil {
			trafficDone <- err
			return
		}
		log.Info("simulated appsflyer push started", "url", safeURL(p.base), "rate", tr.opts.Rate, "method", p.opts.Method)
		trafficDone <- p.Run(ctx, tr, RunOptions{Count: opts.Count, Workers: opts.Workers, Pace: true, Now: opts.Now}, func(r Result) {
			st.deliveries.Add(1)
			switch {
			case r.Delivery.Dropped:
				st.dropped.Add(1)
			case r.Accepted():
				st.accepted.Add(1)
			case r.Status >= 400 && r.Status < 500:
				st.rejected.Add(1)
			default:
				st.failed.Add(1)
			}
		})
	}()

	var tick <-chan time.Time
	if opts.StatsInterval > 0 {
		t := time.NewTicker(opts.StatsInterval)
		defer t.Stop()
		tick = t.C
	}
	last, lastAt := snapshot(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-serveErr:
			return fmt.Errorf("serve pull api: %w", err)
		case err := <-trafficDone:
			s := snapshot()
			log.Info("simulated traffic finished", "deliveries", s.Deliveries, "accepted", s.Accepted, "rejected", s.Rejected, "failed", s.Failed, "dropped", s.Dropped)
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("simulated traffic: %w", err)
			}
			if opts.Listen == "" {
				return nil
			}
			trafficDone = nil // keep serving the Pull API
		case now := <-tick:
			s := snapshot()
			secs := now.Sub(lastAt).Seconds()
			log.Info("simulate progress", "events_per_s", float64(s.Deliveries-last.Deliveries)/secs,
				"deliveries", s.Deliveries, "accepted", s.Accepted, "rejected", s.Rejected, "failed", s.Failed, "dropped", s.Dropped,
				"world_events", w.Len())
			last, lastAt = s, now
		}
	}
}

// generate advances the traffic in real time without sending it, so the
// Pull API serves a growing world.
func generate(ctx context.Context, tr *Traffic, opts Options, n *atomic.Int64) error {
	var offset time.Duration
	for i := 0; opts.Count == 0 || i < opts.Count; i++ {
		d := tr.Next()
		if i == 0 {
			offset = opts.Now().Sub(d.At)
		}
		if err := clock.Sleep(ctx, d.At.Add(offset).Sub(opts.Now())); err != nil {
			return err
		}
		n.Add(1)
	}
	return nil
}
