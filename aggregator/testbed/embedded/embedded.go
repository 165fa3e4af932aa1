// Package embedded starts the peers campaignpulse needs inside the current
// process: a Kafka-protocol cluster (franz-go's kfake) and a MongoDB
// wire-protocol server (FerretDB on SQLite). It exists so that `make run`
// shows the whole pipeline on a machine with no Docker, no broker and no
// database, and so that tests run against real protocol peers.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka is an in-process Kafka cluster.
type Kafka struct {
	c *kfake.Cluster
}

// StartKafka starts an in-process Kafka cluster with one broker on a free
// loopback port (or on addr when given, e.g. "127.0.0.1:9092").
func StartKafka(addr string, extra ...kfake.Opt) (*Kafka, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(-1), kfake.AllowAutoTopicCreation()}
	if addr != "" {
		_, portStr, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("embedded kafka address %q: %w", addr, err)
		}
		var port int
		if _, err := fmt.Sscanf(portStr, "%d", &port); err != nil {
			return nil, fmt.Errorf("embedded kafka port %q: %w", portStr, err)
		}
		opts = append(opts, kfake.Ports(port))
	}
	opts = append(opts, extra...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	return &Kafka{c: c}, nil
}

// Brokers returns the seed broker addresses.
func (k *Kafka) Brokers() []string { return k.c.ListenAddrs() }

// Cluster exposes the kfake cluster for fault injection in tests.
func (k *Kafka) Cluster() *kfake.Cluster { return k.c }

// Close stops the cluster.
func (k *Kafka) Close() { k.c.Close() }

// Mongo is an in-process MongoDB wire-protocol server backed by SQLite files.
type Mongo struct {
	uri     string
	dir     string
	cancel  context.CancelFunc
	done    chan struct{}
	indexed chan struct{}
}

// Sizing of a pipeline whose store is this server. FerretDB writes a few
// hundred documents a second, one SQLite transaction each, and every
// raw_events partition multiplies the live documents of a window (the
// partition is part of their identity). So the embedded stack runs with
// two partitions (one process consumes them all anyway) and store rounds of
// at most RoundWindows windows, about a second of FerretDB's work, so that
// a burst of new windows (a pulled report) drains behind the newest
// changes instead of in front of them.
const (
	RawPartitions = 2
	RoundWindows  = 250
)

// SQLitePragmas are the pragmas FerretDB opens its SQLite files with, on
// top of its own (WAL journal, busy timeout). synchronous(normal) makes a
// commit a write to the WAL without an fsync: FerretDB runs every update
// statement in its own transaction, and with the default (full) each of
// them waits for the disk. A crash of the machine (not of the process) can
// lose the last commits, which the aggregator recovers like any store
// outage: its checkpoint did not move either.
var SQLitePragmas = []string{"synchronous(normal)"}

// StartMongo starts FerretDB with its SQLite files in dir, listening on addr
// ("127.0.0.1:0" picks a free port). It returns once the server accepts
// connections. pragmas replace SQLitePragmas when given.
func StartMongo(ctx context.Context, dir, addr string, log *slog.Logger, pragmas ...string) (*Mongo, error) {
	if pragmas == nil {
		pragmas = SQLitePragmas
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if strings.ContainsAny(dir, "#?") {
		// FerretDB turns the directory into a file: URL without escaping it.
		return nil, fmt.Errorf("embedded mongo data dir %q: FerretDB cannot use a path containing '#' or '?'; choose another directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded mongo data dir: %w", err)
	}
	if addr == "127.0.0.1:0" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("embedded mongo free port: %w", err)
		}
		addr = l.Addr().String()
		l.Close()
	}
	quiet := slog.New(slog.DiscardHandler)
	if log != nil {
		// FerretDB logs every connection and every failed command at info
		// and warn; the clients report what matters to them.
		quiet = slog.New(errorsOnly{log.With("component", "ferretdb").Handler()})
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Logger:    quiet,
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL(dir, pragmas),
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded mongo: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Mongo{uri: f.MongoDBURI(), dir: dir, cancel: cancel, done: make(chan struct{}), indexed: make(chan struct{})}
	go func() {
		defer close(m.done)
		if err := f.Run(runCtx); err != nil && runCtx.Err() == nil && log != nil {
			log.Error("embedded mongo stopped", "err", err)
		}
	}()
	go func() {
		defer close(m.indexed)
		last := ""
		keepIndexing(runCtx, dir, func(err error) {
			if log != nil && err.Error() != last {
				log.Warn("embedded mongo: index _id lookups", "err", err)
			}
			last = err.Error()
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return m, nil
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, fmt.Errorf("embedded mongo did not listen on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sqliteURL(dir string, pragmas []string) string {
	q := url.Values{}
	for _, p := range pragmas {
		if p != "" {
			q.Add("_pragma", p)
		}
	}
	u := "file:" + dir + "/"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// URI is the mongodb:// connection string of the server.
func (m *Mongo) URI() string { return m.uri }

// IndexIDLookups indexes FerretDB's _id lookups in every collection that
// exists now (the server does so on its own every indexPeriod); it returns
// how many indexes it created.
func (m *Mongo) IndexIDLookups(ctx context.Context) (int, error) {
	return indexIDLookups(ctx, m.dir)
}

// Close stops the server and waits for it.
func (m *Mongo) Close() {
	m.cancel()
	<-m.done
	<-m.indexed
}

// errorsOnly passes only error records to the wrapped handler.
type errorsOnly struct{ slog.Handler }

func (h errorsOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.Handler.Enabled(ctx, l)
}

func (h errorsOnly) WithAttrs(as []slog.Attr) slog.Handler {
	return errorsOnly{h.Handler.WithAttrs(as)}
}

func (h errorsOnly) WithGroup(name string) slog.Handler { return errorsOnly{h.Handler.WithGroup(name)} }

// TuneGC sets the collector target of a process that embeds FerretDB to 400
// unless GOGC is set. FerretDB decodes every document it reads or scans
// from JSON; at Go's default target (100) the collector took 11-17 % of the
// CPU of the whole embedded pipeline in one process (bench-freshness
// profile), and the stalls landed on the aggregator's loop too. 400 trades
// heap (up to about five times the live data, a few hundred MB here; the
// memory limit still applies) for that CPU.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
