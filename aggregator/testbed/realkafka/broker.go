package realkafka

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Broker is one Apache Kafka process managed through scripts/kafka.sh. Its data directory
// survives Stop and Kill, so Restart brings back the same cluster with the same topics and
// offsets, as a real broker restart would.
type Broker struct {
	opts Options

	mu      sync.Mutex // serializes script runs: start/stop must not interleave
	running bool
}

// Start formats a fresh data directory with a new cluster id, starts the broker and returns once
// it serves metadata listing itself.
func Start(ctx context.Context, opts Options) (*Broker, error) {
	opts = opts.WithDefaults()
	if err := opts.provision(); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	b := &Broker{opts: opts}
	if err := b.run(ctx, "start"); err != nil {
		return nil, err
	}
	b.running = true
	return b, nil
}

// Addr is the client listener, "127.0.0.1:<port>".
func (b *Broker) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.opts.Port) }

// Brokers is the seed list for kgo.SeedBrokers.
func (b *Broker) Brokers() []string { return []string{b.Addr()} }

// Dir is the instance directory (config, data/, logs/).
func (b *Broker) Dir() string { return b.opts.Dir }

// Running reports whether the broker was started and not stopped or killed since.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running
}

// Stop sends SIGTERM and waits for the controlled shutdown (SIGKILL after StopTimeout).
func (b *Broker) Stop(ctx context.Context) error { return b.halt(ctx, "stop") }

// Kill sends SIGKILL: no controlled shutdown, unflushed segments are recovered on the next start.
func (b *Broker) Kill(ctx context.Context) error { return b.halt(ctx, "stop", "--kill") }

// Pause freezes the broker with SIGSTOP: connections stay open but nothing answers, as clients see
// a long GC pause or a partition. Continue thaws it; Stop and Kill also work on a paused broker.
func (b *Broker) Pause(ctx context.Context) error { return b.run(ctx, "pause") }

// Continue thaws a paused broker with SIGCONT.
func (b *Broker) Continue(ctx context.Context) error { return b.run(ctx, "cont") }

// Resume starts a stopped or killed broker on its existing data directory and waits for metadata.
func (b *Broker) Resume(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.runLocked(ctx, "start", "--keep-data"); err != nil {
		return err
	}
	b.running = true
	return nil
}

// Restart stops the broker (SIGKILL when hard is true) and resumes it on the same data.
func (b *Broker) Restart(ctx context.Context, hard bool) error {
	halt := b.Stop
	if hard {
		halt = b.Kill
	}
	if err := halt(ctx); err != nil {
		return err
	}
	return b.Resume(ctx)
}

// LogTail returns the last n lines of the broker's server.log, for failure messages.
func (b *Broker) LogTail(n int) string {
	data, err := os.ReadFile(filepath.Join(b.opts.Dir, "logs", "server.log"))
	if err != nil {
		return fmt.Sprintf("(no server.log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (b *Broker) halt(ctx context.Context, args ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.runLocked(ctx, args...); err != nil {
		return err
	}
	b.running = false
	return nil
}

func (b *Broker) run(ctx context.Context, args ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runLocked(ctx, args...)
}

// runLocked runs the script with this instance's environment. The owner pid makes the script's
// watchdog kill the broker if this process dies without cleaning up.
func (b *Broker) runLocked(ctx context.Context, args ...string) error {
	// The script's own timeouts bound each step; the extra margin only guards against a hung script.
	ctx, cancel := context.WithTimeout(ctx, b.opts.StartTimeout+b.opts.StopTimeout+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{b.opts.Script}, args...)...)
	cmd.Env = append(os.Environ(),
		"KAFKA_DIR="+b.opts.Dir,
		"KAFKA_PORT="+strconv.Itoa(b.opts.Port),
		"KAFKA_CONTROLLER_PORT="+strconv.Itoa(b.opts.ControllerPort),
		"KAFKA_HEAP="+b.opts.Heap,
		"KAFKA_START_TIMEOUT="+strconv.Itoa(int(b.opts.StartTimeout/time.Second)),
		"KAFKA_STOP_TIMEOUT="+strconv.Itoa(int(b.opts.StopTimeout/time.Second)),
		"KAFKA_EXTRA_CONFIG="+b.opts.extraConfig(),
		"KAFKA_OWNER_PID="+strconv.Itoa(os.Getpid()),
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kafka.sh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
