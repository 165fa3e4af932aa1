package brokerfault

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Target is a broker that can be faulted; *realkafka.Broker implements it.
type Target interface {
	Kill(ctx context.Context) error
	Stop(ctx context.Context) error
	Resume(ctx context.Context) error
	Pause(ctx context.Context) error
	Continue(ctx context.Context) error
}

// Fault is one kind of broker failure.
type Fault string

const (
	// Kill is SIGKILL: no controlled shutdown; unflushed segments are recovered on restart and
	// the controller refuses the new incarnation until the old broker session expires.
	Kill Fault = "kill"
	// Stop is SIGTERM: controlled shutdown, then a restart on the same data.
	Stop Fault = "stop"
	// Pause is SIGSTOP then SIGCONT: the broker hangs with its sockets open, as in a long GC
	// pause or a network partition; clients see timeouts, not refused connections.
	Pause Fault = "pause"
)

// Flag names of a fault schedule's settings.
const (
	FlagFaults = "fault.kinds"
	FlagCount  = "fault.count"
	FlagGap    = "fault.gap"
	FlagDown   = "fault.down"
	FlagSeed   = "fault.seed"
)

// Options configures a fault schedule. Zero values take the defaults.
type Options struct {
	// Faults to draw from.
	Faults []Fault
	// Count is the number of faults injected.
	Count int
	// Gap is how long the broker runs healthy before each fault.
	Gap time.Duration
	// Down is how long the broker stays dead or frozen.
	Down time.Duration
	// Seed picks the sequence of faults.
	Seed int64
	// Log receives one line per fault. Default: discard.
	Log *slog.Logger
	// Sleep waits for Gap and Down. Default clock.Sleep (the wall clock).
	Sleep func(ctx context.Context, d time.Duration) error
}

// RegisterFlags registers the --fault.* settings of a schedule; the defaults written here are
// the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	o.Faults = []Fault{Kill, Stop, Pause}
	fs.Var((*faultList)(&o.Faults), FlagFaults, "faults to draw from, comma-separated: kill, stop, pause")
	fs.IntVar(&o.Count, FlagCount, 3, "number of faults injected")
	fs.DurationVar(&o.Gap, FlagGap, 3*time.Second, "how long the broker runs healthy before each fault")
	fs.DurationVar(&o.Down, FlagDown, 2*time.Second, "how long the broker stays dead or frozen")
	fs.Int64Var(&o.Seed, FlagSeed, 1, "seed of the sequence of faults")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o Options) WithDefaults() Options {
	o = settings.WithDefaults(o, (*Options).RegisterFlags)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = clock.Sleep
	}
	return o
}

// faultList is --fault.kinds: a comma-separated list of faults.
type faultList []Fault

func (l *faultList) String() string {
	if l == nil {
		return ""
	}
	var b strings.Builder
	for i, f := range *l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(f))
	}
	return b.String()
}

func (l *faultList) Set(s string) error {
	*l = nil
	for _, f := range settings.SplitList(s) {
		*l = append(*l, Fault(f))
	}
	return nil
}

func (o *Options) validate() error {
	for _, f := range o.Faults {
		if !slices.Contains([]Fault{Kill, Stop, Pause}, f) {
			return fmt.Errorf("%s: unknown fault %q (want kill, stop or pause)", FlagFaults, f)
		}
	}
	if o.Count < 0 {
		return fmt.Errorf("%s %d: must not be negative", FlagCount, o.Count)
	}
	if o.Gap < 0 || o.Down < 0 {
		return fmt.Errorf("%s %s / %s %s: must not be negative", FlagGap, o.Gap, FlagDown, o.Down)
	}
	return nil
}

// Plan is the sequence of faults Run injects for o: a seeded shuffle that uses every configured
// kind before repeating one, so a short schedule still covers each failure mode.
func Plan(o Options) ([]Fault, error) {
	o = o.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x6b61666b61))
	var plan []Fault
	for len(plan) < o.Count {
		round := slices.Clone(o.Faults)
		rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		plan = append(plan, round...)
	}
	return plan[:o.Count], nil
}

// Injected records one fault: when it started and how long until the broker served again.
type Injected struct {
	Fault   Fault
	Start   time.Time
	Outage  time.Duration
	Restart time.Duration // time Resume took to get metadata served again (Kill, Stop)
}

// Run injects the planned faults into t, each after Gap of healthy running, and returns once the
// broker serves again after the last one. On error the broker may be left down or frozen.
func Run(ctx context.Context, t Target, o Options) ([]Injected, error) {
	plan, err := Plan(o)
	if err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	var done []Injected
	for i, f := range plan {
		if err := o.Sleep(ctx, o.Gap); err != nil {
			return done, err
		}
		in, err := inject(ctx, t, f, o)
		if err != nil {
			return done, fmt.Errorf("fault %d (%s): %w", i+1, f, err)
		}
		o.Log.Info("broker fault injected", "fault", string(f), "n", i+1, "outage", in.Outage, "restart", in.Restart)
		done = append(done, in)
	}
	return done, nil
}

func inject(ctx context.Context, t Target, f Fault, o Options) (Injected, error) {
	in := Injected{Fault: f, Start: time.Now()}
	var down, up func(context.Context) error
	switch f {
	case Kill:
		down, up = t.Kill, t.Resume
	case Stop:
		down, up = t.Stop, t.Resume
	case Pause:
		down, up = t.Pause, t.Continue
	default:
		return in, fmt.Errorf("unknown fault %q", f)
	}
	if err := down(ctx); err != nil {
		return in, err
	}
	if err := o.Sleep(ctx, o.Down); err != nil {
		// Leave no frozen or dead broker behind a cancelled run.
		return in, errors.Join(err, up(context.WithoutCancel(ctx)))
	}
	upStart := time.Now()
	if err := up(ctx); err != nil {
		return in, err
	}
	if f != Pause {
		in.Restart = time.Since(upStart)
	}
	in.Outage = time.Since(in.Start)
	return in, nil
}
