package simulate

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Options configure Run: a world, its traffic, the Pull API server and the
// push emitter, as the `simulate` subcommand and `make run` use them.
type Options struct {
	// Seed fixes the world and its traffic. Its flag defaults to 1; a zero
	// Seed is world 0, not the default.
	Seed    int64 `settings:"required"`
	World   WorldOptions
	Traffic TrafficOptions // Start defaults to the clock's now in Run
	// Listen is the address of the fake Pull API; "" disables it (its flag
	// has a default address).
	Listen string `settings:"required"`
	Server ServerOptions
	// Push sends the traffic to Push.URL; with an empty URL the traffic is
	// only generated (paced) so the Pull API has data to serve.
	Push PusherOptions
	// Workers is the number of concurrent pushes.
	Workers int
	// Count stops the traffic after this many deliveries (the Pull API keeps
	// serving until ctx ends); 0 means no limit.
	Count int
	// StatsInterval is how often progress is logged; settings.Off never.
	StatsInterval time.Duration
	// Now is the clock for pacing. Default time.Now.
	Now func() time.Time
	// OnListen is called with the Pull API's address once it listens.
	OnListen func(addr string)
}

// RegisterFlags registers every setting of a simulation: the world, the
// traffic, the fake Pull API and the push emitter. The defaults written
// here and in the parts' registrations are the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.Int64Var(&o.Seed, FlagSeed, 1, "seed of the synthetic world and its traffic (same seed, same events)")
	o.World.RegisterFlags(fs)
	o.Traffic.RegisterFlags(fs)
	fs.IntVar(&o.Count, FlagCount, 0, "stop pushing after this many deliveries (the Pull API keeps serving); 0 = no limit")
	settings.OffDuration(fs, &o.StatsInterval, FlagStatsInterval, 10*time.Second, "how often to log events/s; 0 = never")
	fs.StringVar(&o.Listen, FlagListen, "127.0.0.1:8090", "address of the fake Pull API (GET /api/raw-data/export/app/{app}/{report}/v5); empty disables it")
	o.Server.RegisterFlags(fs)
	o.Push.RegisterFlags(fs)
	fs.IntVar(&o.Workers, FlagWorkers, 8, "concurrent push requests")
}

// WithDefaults returns o with zero settings replaced by their defaults and
// a zero traffic Start by the clock's now.
func (o Options) WithDefaults() Options {
	o = settings.WithDefaults(o, (*Options).RegisterFlags)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Traffic.Start.IsZero() {
		o.Traffic.Start = o.Now().UTC()
	}
	return o
}

func (o *Options) validate() error {
	switch {
	case o.Workers < 1:
		return fmt.Errorf("%s %d: want >= 1", FlagWorkers, o.Workers)
	case o.Count < 0:
		return fmt.Errorf("%s %d: want >= 0", FlagCount, o.Count)
	case o.StatsInterval < 0 && o.StatsInterval != settings.Off:
		return fmt.Errorf("%s %v: want >= 0", FlagStatsInterval, o.StatsInterval)
	case o.Listen == "" && o.Push.URL == "":
		return fmt.Errorf("%s and %s are both empty: nothing to do", FlagListen, FlagPushURL)
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
	opts = opts.WithDefaults()
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
	if every := settings.Duration(opts.StatsInterval); every > 0 {
		t := time.NewTicker(every)
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
