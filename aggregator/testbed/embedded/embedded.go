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
	"os"
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
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartMongo starts FerretDB with its SQLite files in dir, listening on addr
// ("127.0.0.1:0" picks a free port). It returns once the server accepts
// connections.
func StartMongo(ctx context.Context, dir, addr string, log *slog.Logger) (*Mongo, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
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
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded mongo: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Mongo{uri: f.MongoDBURI(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		if err := f.Run(runCtx); err != nil && runCtx.Err() == nil && log != nil {
			log.Error("embedded mongo stopped", "err", err)
		}
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

// URI is the mongodb:// connection string of the server.
func (m *Mongo) URI() string { return m.uri }

// Close stops the server and waits for it.
func (m *Mongo) Close() {
	m.cancel()
	<-m.done
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
