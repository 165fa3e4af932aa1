package realkafka

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Options configures one broker instance. The zero value is usable: every field has a default.
type Options struct {
	// Dir is the instance directory (config, data/, logs/, kafka.pid). Default: a new directory
	// under os.TempDir(); ForTest uses t.TempDir().
	Dir string
	// Port is the client listener port on 127.0.0.1. Default: a free port.
	Port int
	// ControllerPort is the KRaft controller listener port. Default: a free port.
	ControllerPort int
	// Script is the path to scripts/kafka.sh. Default: $CAMPAIGNPULSE_KAFKA_SCRIPT, else found by
	// walking up from the working directory, else relative to this package's source.
	Script string
	// ExtraConfig adds or overrides server.properties entries, e.g. {"num.partitions": "6"}.
	// Default: none.
	ExtraConfig map[string]string
	// StartTimeout bounds the wait for the broker to serve metadata. Default: 90s.
	StartTimeout time.Duration
	// StopTimeout bounds the wait after SIGTERM before the script sends SIGKILL. Default: 60s.
	StopTimeout time.Duration
	// Heap is the JVM heap flags. Default: "-Xms256m -Xmx512m".
	Heap string
}

const (
	defaultStartTimeout = 90 * time.Second
	defaultStopTimeout  = 60 * time.Second
	defaultHeap         = "-Xms256m -Xmx512m"
	scriptEnv           = "CAMPAIGNPULSE_KAFKA_SCRIPT"
)

func (o *Options) setDefaults() error {
	if o.Script == "" {
		s, err := findScript()
		if err != nil {
			return err
		}
		o.Script = s
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "campaignpulse-kafka-")
		if err != nil {
			return fmt.Errorf("create broker dir: %w", err)
		}
		o.Dir = d
	}
	var err error
	if o.Port == 0 {
		if o.Port, err = freePort(); err != nil {
			return err
		}
	}
	if o.ControllerPort == 0 {
		if o.ControllerPort, err = freePort(); err != nil {
			return err
		}
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = defaultStartTimeout
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = defaultStopTimeout
	}
	if o.Heap == "" {
		o.Heap = defaultHeap
	}
	return nil
}

func (o *Options) validate() error {
	if _, err := os.Stat(o.Script); err != nil {
		return fmt.Errorf("realkafka Script %q: %w", o.Script, err)
	}
	if !filepath.IsAbs(o.Dir) {
		return fmt.Errorf("realkafka Dir %q: must be absolute", o.Dir)
	}
	for name, p := range map[string]int{"Port": o.Port, "ControllerPort": o.ControllerPort} {
		if p < 1 || p > 65535 {
			return fmt.Errorf("realkafka %s %d: must be 1..65535", name, p)
		}
	}
	if o.Port == o.ControllerPort {
		return fmt.Errorf("realkafka Port and ControllerPort are both %d", o.Port)
	}
	if o.StartTimeout < time.Second {
		return fmt.Errorf("realkafka StartTimeout %s: must be at least 1s", o.StartTimeout)
	}
	if o.StopTimeout < time.Second {
		return fmt.Errorf("realkafka StopTimeout %s: must be at least 1s", o.StopTimeout)
	}
	for k, v := range o.ExtraConfig {
		if k == "" || strings.ContainsAny(k, "=\n") || strings.Contains(v, "\n") {
			return fmt.Errorf("realkafka ExtraConfig %q=%q: keys need no '=' or newline, values no newline", k, v)
		}
	}
	return nil
}

// extraConfig renders ExtraConfig as server.properties lines in a stable order.
func (o *Options) extraConfig() string {
	keys := make([]string, 0, len(o.ExtraConfig))
	for k := range o.ExtraConfig {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, o.ExtraConfig[k])
	}
	return b.String()
}

var errNoScript = errors.New("scripts/kafka.sh not found")

// findScript locates scripts/kafka.sh: the env override, then the working directory and its
// parents (go test runs in the package directory), then this file's checkout.
func findScript() (string, error) {
	if s := os.Getenv(scriptEnv); s != "" {
		return filepath.Abs(s)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			p := filepath.Join(d, "scripts", "kafka.sh")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "kafka.sh")
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
	}
	return "", fmt.Errorf("%w (set %s)", errNoScript, scriptEnv)
}

// freePort asks the kernel for a free loopback port. The broker binds it a moment later; the
// window for another process to take it is small and a clash fails loudly at start.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
