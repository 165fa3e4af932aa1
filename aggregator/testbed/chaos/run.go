package chaos

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/freeport"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/netfault"
)

// Flag names of a chaos run's settings (the chaos tool's command line).
const (
	FlagBinary          = "binary"
	FlagDir             = "dir"
	FlagEvents          = "events"
	FlagPartitions      = "partitions"
	FlagKills           = "kills"
	FlagStoreOutages    = "store-outages"
	FlagOutageLength    = "outage"
	FlagReplyLosses     = "reply-losses"
	FlagReplyLossLength = "reply-loss"
	FlagInstances       = "instances"
	FlagSeed            = "seed"
)

// Options configure one chaos run. Zero values take the defaults.
type Options struct {
	// Binary is the campaignpulse executable. Required (its flag has a
	// default path).
	Binary string `settings:"required"`
	// Brokers of a running Kafka cluster; empty starts an in-process one.
	Brokers []string
	// Dir holds FerretDB's files and the aggregator logs. Empty: a new
	// temporary directory.
	Dir string
	// Events is the number of deliveries fed to raw_events.
	Events int
	// Partitions of raw_events.
	Partitions int32
	// Kills is the minimum number of SIGKILLs.
	Kills int
	// StoreOutages is how many times MongoDB goes away during the run
	// (for OutageLength each); settings.OffValue: never. Read it through
	// settings.Number.
	StoreOutages int
	// OutageLength is how long the store stays away.
	OutageLength time.Duration
	// ReplyLosses is how many times the aggregators' MongoDB replies are
	// lost for ReplyLossLength (the server applies their writes, the
	// clients time out) before one of them is killed: the cancelled-insert
	// fault. settings.OffValue: never.
	ReplyLosses     int
	ReplyLossLength time.Duration
	// Instances is how many aggregators run at once in one group.
	Instances int
	// Seed fixes traffic and kill timing.
	Seed int64
	// Log receives progress; default discards.
	Log *slog.Logger
}

// RegisterFlags registers the settings of a chaos run; the defaults written
// here are the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	settings.List(fs, &o.Brokers, metricdoc.FlagBrokers, nil, "Kafka brokers (comma-separated); empty runs an in-process kfake cluster")
	fs.StringVar(&o.Binary, FlagBinary, "bin/campaignpulse", "the campaignpulse executable under test")
	fs.StringVar(&o.Dir, FlagDir, "", "work directory for FerretDB files and aggregator logs (default: a temp dir)")
	fs.IntVar(&o.Events, FlagEvents, 30000, "deliveries fed to raw_events")
	settings.Int32(fs, &o.Partitions, FlagPartitions, 6, "partitions of raw_events")
	fs.IntVar(&o.Kills, FlagKills, 12, "minimum number of SIGKILLs")
	settings.OffNumber(fs, &o.StoreOutages, FlagStoreOutages, 3, "times MongoDB goes away during the run (0 or off: never)")
	fs.DurationVar(&o.OutageLength, FlagOutageLength, 3*time.Second, "length of each store outage")
	settings.OffNumber(fs, &o.ReplyLosses, FlagReplyLosses, 3, "times the aggregators' MongoDB replies are lost (writes applied, clients time out) before a kill (0 or off: never)")
	fs.DurationVar(&o.ReplyLossLength, FlagReplyLossLength, 2*time.Second, "length of each reply loss")
	fs.IntVar(&o.Instances, FlagInstances, 2, "aggregators running at once in one consumer group")
	fs.Int64Var(&o.Seed, FlagSeed, 1, "seed of traffic and kill timing")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o Options) WithDefaults() Options {
	o = settings.WithDefaults(o, (*Options).RegisterFlags)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o *Options) validate() error {
	if o.Binary == "" {
		return fmt.Errorf("chaos: %s: path to the campaignpulse executable is required", FlagBinary)
	}
	if _, err := os.Stat(o.Binary); err != nil {
		return fmt.Errorf("chaos: %s: %w", FlagBinary, err)
	}
	return nil
}

// Result is the outcome of a run.
type Result struct {
	Kills       int
	Outages     int
	ReplyLosses int
	Produced    int64
	Accounting  Accounting
	Mismatches  []Mismatch
	Dir         string
	// FinalCopies and CopiesDiffer are Stored's: repeated final appends
	// (tolerated, read once) and repeats with other totals (a failure).
	FinalCopies, CopiesDiffer int
}

// Summary is the one-line verdict `make chaos` ends with.
func (r *Result) Summary() string {
	return fmt.Sprintf("chaos: kills=%d produced=%d counted=%d duplicates=%d too_late=%d dead_lettered=%d mismatched_windows=%d",
		r.Kills, r.Produced, r.Accounting.Counted, r.Accounting.Duplicates, r.Accounting.TooLate, r.Accounting.DeadLettered, len(r.Mismatches))
}

// OK reports whether the run proved exactly-once: every window equal to the
// truth and every produced record accounted for exactly once.
func (r *Result) OK() bool {
	a := r.Accounting
	return len(r.Mismatches) == 0 && r.CopiesDiffer == 0 && a.Holds() && a.Outcomes() == r.Produced
}

const database = "campaignpulse_chaos"

// Run executes one chaos scenario and returns its result; err is set when
// the run itself could not be carried out (not when totals are wrong).
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	log := o.Log
	if err := workDir(&o.Dir, "chaos"); err != nil {
		return nil, err
	}
	res := &Result{Dir: o.Dir}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 99))

	// MongoDB: FerretDB in this process, restarted on the same files and port
	// for outages, so the aggregators reconnect to "the same server".
	mongoAddr, err := freeport.Addr()
	if err != nil {
		return nil, err
	}
	mongoDir := filepath.Join(o.Dir, "mongo")
	store, err := embedded.StartMongo(ctx, mongoDir, mongoAddr, log)
	if err != nil {
		return nil, err
	}
	defer func() { store.Close() }()
	mongoURI := store.URI()
	// The aggregators reach MongoDB through a proxy that can lose replies.
	proxy, err := netfault.Listen(mongoAddr)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	aggURI := "mongodb://" + proxy.Addr() + "/"

	brokers := o.Brokers
	if len(brokers) == 0 {
		k, err := embedded.StartKafka("")
		if err != nil {
			return nil, err
		}
		defer k.Close()
		brokers = k.Brokers()
	}
	pubOpts := publish.Options{Brokers: brokers, RawPartitions: o.Partitions}.WithDefaults()
	cl, err := freshRawEvents(ctx, pubOpts, "chaos", log)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	f, err := newFeed(o.Seed, o.Events, time.UTC)
	if err != nil {
		return nil, err
	}

	args := []string{
		"--kafka.brokers", strings.Join(brokers, ","),
		"--mongo.uri", aggURI,
		"--mongo.database", database,
		"--http.addr", "127.0.0.1:0",
		"--aggregate.flush-interval", "200ms",
		"--kafka.session-timeout", "6s",
		"--kafka.heartbeat-interval", "500ms",
		"--kafka.rebalance-timeout", "15s",
	}
	// Each running aggregator fills a slot whose static member id
	// (group.instance.id) its replacement reuses, as a restarted container
	// would: the group then hands the partitions straight back instead of
	// waiting out the rebalance timeout for a member that will never rejoin.
	var procs []*proc
	slots := map[*proc]int{}
	nextID := 0
	spawn := func(slot int) error {
		p, err := startAggregator(o.Binary, o.Dir, nextID, append(args, "--kafka.instance-id", fmt.Sprintf("chaos-%d", slot)))
		if err != nil {
			return err
		}
		nextID++
		procs = append(procs, p)
		slots[p] = slot
		return nil
	}
	defer func() {
		for _, p := range procs {
			if _, done := p.exited(); !done {
				p.kill()
			}
		}
	}()
	for slot := range o.Instances {
		if err := spawn(slot); err != nil {
			return nil, err
		}
	}

	// Feed while killing: production is spread over most of the kill phase.
	killGap := func() time.Duration { return 700*time.Millisecond + time.Duration(rng.Int64N(int64(2*time.Second))) }
	spread := time.Duration(o.Kills) * 1500 * time.Millisecond
	type produced struct {
		n   int64
		err error
	}
	prodDone := make(chan produced, 1)
	go func() {
		n, err := f.produce(ctx, cl, spread)
		prodDone <- produced{n, err}
	}()

	outages, losses := settings.Number(o.StoreOutages), settings.Number(o.ReplyLosses)
	outageEvery := max(o.Kills/max(outages, 1), 1)
	lossEvery := max(o.Kills/max(losses, 1), 2)
	var prod *produced
	for res.Kills < o.Kills || prod == nil {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case p := <-prodDone:
			if p.err != nil {
				return nil, p.err
			}
			prod = &p
			continue
		case <-time.After(killGap()):
		}
		// A process that died on its own is a failure of the product.
		for _, p := range procs {
			if err, done := p.exited(); done {
				return nil, fmt.Errorf("aggregator %d exited by itself: %v (log %s)", p.id, err, p.log.Name())
			}
		}
		// Lose MongoDB's replies for a while, then kill: writes the server
		// applied but whose clients gave up (or died) race the next owner.
		lossy := res.ReplyLosses < losses && res.Kills%lossEvery == lossEvery/2
		if lossy {
			proxy.Drop(true)
			log.Info("chaos: mongodb replies lost", "for", o.ReplyLossLength)
			time.Sleep(o.ReplyLossLength)
		}
		victim := rng.IntN(len(procs))
		slot := slots[procs[victim]]
		procs[victim].kill()
		if lossy {
			proxy.Drop(false)
			res.ReplyLosses++
		}
		procs = append(procs[:victim], procs[victim+1:]...)
		res.Kills++
		log.Info("chaos: killed an aggregator", "kills", res.Kills)
		if res.Outages < outages && res.Kills%outageEvery == 0 {
			store.Close()
			log.Info("chaos: store down", "for", o.OutageLength)
			time.Sleep(o.OutageLength)
			if store, err = embedded.StartMongo(ctx, mongoDir, mongoAddr, log); err != nil {
				return nil, fmt.Errorf("restart store: %w", err)
			}
			res.Outages++
		}
		if err := spawn(slot); err != nil {
			return nil, err
		}
	}
	res.Produced = prod.n

	// Let the survivors catch up, then stop them cleanly.
	mc, err := mongo.Connect(options.Client().ApplyURI(mongoURI))
	if err != nil {
		return nil, fmt.Errorf("chaos oracle connect: %w", err)
	}
	defer mc.Disconnect(context.WithoutCancel(ctx))
	db := mc.Database(database)
	if err := waitCaughtUp(ctx, db, res.Produced, 2*time.Minute, 10*time.Minute); err != nil {
		return nil, err
	}
	for _, p := range procs {
		if err := p.stop(30 * time.Second); err != nil {
			return nil, err
		}
	}
	procs = nil

	stored, err := ReadStored(ctx, db)
	if err != nil {
		return nil, err
	}
	res.Accounting = stored.Accounting
	res.FinalCopies, res.CopiesDiffer = stored.FinalCopies, stored.CopiesDiffer
	res.Mismatches = Compare(f.truth, stored)
	return res, nil
}

// waitCaughtUp polls the checkpoints until they cover every produced
// record. It gives up when they stop moving for stall, or after limit.
func waitCaughtUp(ctx context.Context, db *mongo.Database, produced int64, stall, limit time.Duration) error {
	began, lastMove := time.Now(), time.Now()
	var last int64 = -1
	var lastErr error
	for {
		s, err := ReadStored(ctx, db)
		lastErr = err
		if err == nil {
			if s.Accounting.Processed >= produced {
				return nil
			}
			if s.Accounting.Processed != last {
				last, lastMove = s.Accounting.Processed, time.Now()
			}
		}
		if time.Since(lastMove) > stall || time.Since(began) > limit {
			return fmt.Errorf("aggregators did not catch up: checkpoints cover %d of %d records after %s, no progress for %s (last error: %v)",
				last, produced, time.Since(began).Round(time.Second), time.Since(lastMove).Round(time.Second), lastErr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// freshRawEvents connects a client (named name in its logs and errors),
// creates the topics and checks that raw_events is empty: the oracle
// compares with this run's traffic only, so records left by an earlier run
// would be counted too. The caller closes the client.
func freshRawEvents(ctx context.Context, o publish.Options, name string, log *slog.Logger) (*kgo.Client, error) {
	cl, err := publish.NewClient(o, name, log, nil)
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	if err := publish.EnsureTopics(ctx, adm, o, log); err != nil {
		cl.Close()
		return nil, fmt.Errorf("%s topics: %w", name, err)
	}
	ends, err := adm.ListEndOffsets(ctx, metricdoc.TopicRawEvents)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("%s: list raw_events offsets: %w", name, err)
	}
	var leftover int64
	ends.Each(func(lo kadm.ListedOffset) { leftover += lo.Offset })
	if leftover > 0 {
		cl.Close()
		return nil, fmt.Errorf("%s: raw_events on %s already holds %d records from an earlier run; start a fresh broker (scripts/kafka.sh stop && scripts/kafka.sh start)", name, strings.Join(o.Brokers, ","), leftover)
	}
	return cl, nil
}

// workDir sets an empty *dir to a new temporary directory for what
// (chaos, recovery).
func workDir(dir *string, what string) error {
	if *dir != "" {
		return nil
	}
	d, err := os.MkdirTemp("", "campaignpulse-"+what+"-")
	if err != nil {
		return fmt.Errorf("%s dir: %w", what, err)
	}
	*dir = d
	return nil
}
